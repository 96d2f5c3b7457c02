/// Optional per-entry details some feeds carry; stored only for entries
/// that have any, so a million-line plain list pays nothing for them.
public struct FeedEntryMetadata: Hashable, Sendable {
    /// Spamhaus SBL record id, e.g. `SBL256894`.
    public var sblID: String?
    /// Spamhaus regional internet registry, e.g. `apnic`.
    public var rir: String?
    /// abuse.ch malware family, e.g. `Emotet`.
    public var malware: String?
    /// abuse.ch C2 port.
    public var port: Int?
    /// abuse.ch C2 status, `online` or `offline`.
    public var status: String?
    /// CrowdSec scenario, e.g. `crowdsecurity/ssh-bf`.
    public var scenario: String?
    /// CrowdSec origin, e.g. `CAPI`, `crowdsec`, `cscli`.
    public var origin: String?
    /// CrowdSec decision lifetime in whole seconds, rounded up.
    public var ttlSeconds: Int?

    public init(
        sblID: String? = nil, rir: String? = nil, malware: String? = nil, port: Int? = nil,
        status: String? = nil, scenario: String? = nil, origin: String? = nil, ttlSeconds: Int? = nil
    ) {
        self.sblID = sblID
        self.rir = rir
        self.malware = malware
        self.port = port
        self.status = status
        self.scenario = scenario
        self.origin = origin
        self.ttlSeconds = ttlSeconds
    }

    var isEmpty: Bool { self == FeedEntryMetadata() }
}

/// The accepted content of one feed: unique prefixes in first-seen order,
/// the same sorted (for diffing and membership), their metadata and the
/// bookkeeping an operator wants in a log line.
public struct ParsedFeed: Hashable, Sendable {
    public let source: String
    /// Unique prefixes in the order the feed first lists them.
    public let prefixes: [IPPrefix]
    /// The same prefixes sorted, for membership and diffing.
    public let sorted: SortedPrefixes
    /// Details for the entries that carry any.
    public let metadata: [IPPrefix: FeedEntryMetadata]
    /// Lines in the text, including comments and blanks.
    public let lineCount: Int
    /// Entries dropped because an earlier line listed the same prefix.
    public let duplicateCount: Int
    /// Bad lines skipped in lenient mode.
    public let skippedCount: Int
    /// Well-formed records that are not about addresses (CrowdSec
    /// `Country`/`AS` decisions): not errors, just not ours.
    public let ignoredCount: Int
    /// In lenient mode the first errors of the skipped lines.
    public let errors: [FeedError]

    public init(
        source: String, prefixes: [IPPrefix], metadata: [IPPrefix: FeedEntryMetadata] = [:],
        lineCount: Int = 0, duplicateCount: Int = 0, skippedCount: Int = 0, ignoredCount: Int = 0,
        errors: [FeedError] = []
    ) {
        let sorted = SortedPrefixes(prefixes)
        self.init(
            source: source, listed: prefixes, sorted: sorted, metadata: metadata, lineCount: lineCount,
            duplicateCount: duplicateCount, skippedCount: skippedCount, ignoredCount: ignoredCount, errors: errors)
    }

    /// For the parsers, which sorted the builder's entries already.
    init(builder: ParsedFeedBuilder, sorted: SortedPrefixes, source: String, lineCount: Int, skippedCount: Int, errors: [FeedError]) {
        self.init(
            source: source, listed: builder.listed, sorted: sorted, metadata: builder.metadata, lineCount: lineCount,
            skippedCount: skippedCount, ignoredCount: builder.ignoredCount, errors: errors)
    }

    /// `listed` may repeat entries: sorting found how many repeats there
    /// are, and only a feed that has any pays for removing them in order.
    private init(
        source: String, listed: [IPPrefix], sorted: SortedPrefixes, metadata: [IPPrefix: FeedEntryMetadata],
        lineCount: Int, duplicateCount: Int = 0, skippedCount: Int, ignoredCount: Int, errors: [FeedError]
    ) {
        if listed.count == sorted.count {
            prefixes = listed
        } else {
            var seen = Set<IPPrefix>(minimumCapacity: sorted.count)
            prefixes = listed.filter { seen.insert($0).inserted }
        }
        self.sorted = sorted
        self.source = source
        self.metadata = metadata
        self.lineCount = lineCount
        self.duplicateCount = duplicateCount + listed.count - sorted.count
        self.skippedCount = skippedCount
        self.ignoredCount = ignoredCount
        self.errors = errors
    }

    /// The prefixes as a `Set` (built on each call).
    public var prefixSet: Set<IPPrefix> { Set(sorted) }

    public var count: Int { prefixes.count }
    public var isEmpty: Bool { prefixes.isEmpty }
    public var ipv4Count: Int { prefixes.lazy.filter { $0.family == .v4 }.count }
    public var ipv6Count: Int { count - ipv4Count }

    public func contains(_ prefix: IPPrefix) -> Bool { sorted.contains(prefix) }

    public func metadata(for prefix: IPPrefix) -> FeedEntryMetadata? { metadata[prefix] }
}
