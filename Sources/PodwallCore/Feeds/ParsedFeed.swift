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
/// their metadata and the bookkeeping an operator wants in a log line.
public struct ParsedFeed: Hashable, Sendable {
    public let source: String
    /// Unique prefixes in the order the feed first lists them.
    public let prefixes: [IPPrefix]
    /// The same prefixes as a set, for membership and diffing.
    public let prefixSet: Set<IPPrefix>
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
        var seen = Set<IPPrefix>(minimumCapacity: prefixes.count)
        self.prefixes = prefixes.filter { seen.insert($0).inserted }
        self.prefixSet = seen
        self.source = source
        self.metadata = metadata
        self.lineCount = lineCount
        self.duplicateCount = duplicateCount + prefixes.count - self.prefixes.count
        self.skippedCount = skippedCount
        self.ignoredCount = ignoredCount
        self.errors = errors
    }

    /// For the parsers, which already hold both forms.
    init(builder: ParsedFeedBuilder, source: String, lineCount: Int, skippedCount: Int, errors: [FeedError]) {
        self.source = source
        self.prefixes = builder.prefixes
        self.prefixSet = builder.seen
        self.metadata = builder.metadata
        self.lineCount = lineCount
        self.duplicateCount = builder.duplicateCount
        self.skippedCount = skippedCount
        self.ignoredCount = builder.ignoredCount
        self.errors = errors
    }

    public var count: Int { prefixes.count }
    public var isEmpty: Bool { prefixes.isEmpty }
    public var ipv4Count: Int { prefixes.lazy.filter { $0.family == .v4 }.count }
    public var ipv6Count: Int { count - ipv4Count }

    public func contains(_ prefix: IPPrefix) -> Bool { prefixSet.contains(prefix) }

    public func metadata(for prefix: IPPrefix) -> FeedEntryMetadata? { metadata[prefix] }
}
