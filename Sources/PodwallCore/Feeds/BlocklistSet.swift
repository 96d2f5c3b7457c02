/// The blocklist the kernel should hold, built from several feeds plus
/// dynamic (TTL) entries.
///
/// A prefix stays while any feed lists it or a dynamic entry for it is
/// live, so an address listed by two feeds survives one of them dropping
/// it. Time is whatever clock the caller uses (seconds; monotonic is best):
/// `now` is always passed in, never read here, which keeps this testable.
/// Mutations return the change to the desired set as a `BlocklistDiff`.
public struct BlocklistSet: Sendable {
    public struct DynamicEntry: Hashable, Sendable {
        /// When the entry lapses, on the caller's clock.
        public var expires: Int64
        /// Why it was added, e.g. a CrowdSec scenario, for logs.
        public var reason: String

        public init(expires: Int64, reason: String) {
            self.expires = expires
            self.reason = reason
        }
    }

    private var feeds: [String: Set<IPPrefix>] = [:]
    /// How many feeds list each prefix. Counting rather than storing owner
    /// names keeps millions of entries cheap; names come from `feeds`.
    private var listingCount: [IPPrefix: Int] = [:]
    private var dynamicEntries: [IPPrefix: DynamicEntry] = [:]

    public init() {}

    public var feedNames: [String] { feeds.keys.sorted() }

    /// Every prefix that should be in the kernel.
    public var desired: Set<IPPrefix> {
        Set(listingCount.keys).union(dynamicEntries.keys)
    }

    public var count: Int {
        listingCount.count + dynamicEntries.keys.lazy.filter { listingCount[$0] == nil }.count
    }

    public func contains(_ prefix: IPPrefix) -> Bool {
        listingCount[prefix] != nil || dynamicEntries[prefix] != nil
    }

    /// The feeds listing `prefix`, sorted.
    public func feeds(listing prefix: IPPrefix) -> [String] {
        guard listingCount[prefix] != nil else { return [] }
        return feeds.filter { $0.value.contains(prefix) }.keys.sorted()
    }

    public func prefixes(ofFeed name: String) -> Set<IPPrefix> { feeds[name] ?? [] }

    public func dynamicEntry(for prefix: IPPrefix) -> DynamicEntry? { dynamicEntries[prefix] }

    /// The earliest dynamic expiry, for scheduling the next `expire(now:)`.
    public var nextExpiry: Int64? { dynamicEntries.values.lazy.map(\.expires).min() }

    // MARK: Feeds

    @discardableResult
    public mutating func replaceFeed(_ name: String, with feed: ParsedFeed) -> BlocklistDiff {
        replaceFeed(name, with: feed.prefixSet)
    }

    /// Makes `prefixes` the whole content of feed `name`.
    @discardableResult
    public mutating func replaceFeed(_ name: String, with prefixes: Set<IPPrefix>) -> BlocklistDiff {
        let old = feeds[name] ?? []
        feeds[name] = prefixes.isEmpty ? nil : prefixes
        var diff = BlocklistDiff()
        for prefix in prefixes.subtracting(old) where retain(prefix) {
            diff.additions.append(prefix)
        }
        for prefix in old.subtracting(prefixes) where release(prefix) {
            diff.deletions.append(prefix)
        }
        return diff.sortedCopy()
    }

    @discardableResult
    public mutating func removeFeed(_ name: String) -> BlocklistDiff {
        replaceFeed(name, with: Set<IPPrefix>())
    }

    /// Counts one more feed listing `prefix`; true if it became desired.
    private mutating func retain(_ prefix: IPPrefix) -> Bool {
        let previous = listingCount[prefix, default: 0]
        listingCount[prefix] = previous + 1
        return previous == 0 && dynamicEntries[prefix] == nil
    }

    /// Counts one feed fewer; true if `prefix` stopped being desired.
    private mutating func release(_ prefix: IPPrefix) -> Bool {
        guard let previous = listingCount[prefix] else { return false }
        listingCount[prefix] = previous > 1 ? previous - 1 : nil
        return previous == 1 && dynamicEntries[prefix] == nil
    }

    // MARK: Dynamic entries

    /// Adds or extends a dynamic entry. An existing entry keeps the later
    /// expiry: two decisions on one address block it until the last ends.
    /// Returns true if `prefix` became desired.
    @discardableResult
    public mutating func addDynamic(_ prefix: IPPrefix, expires: Int64, reason: String) -> Bool {
        if let existing = dynamicEntries[prefix], existing.expires >= expires { return false }
        let wasDesired = contains(prefix)
        dynamicEntries[prefix] = DynamicEntry(expires: expires, reason: reason)
        return !wasDesired
    }

    /// Drops the dynamic entry; true if `prefix` stopped being desired.
    @discardableResult
    public mutating func removeDynamic(_ prefix: IPPrefix) -> Bool {
        guard dynamicEntries.removeValue(forKey: prefix) != nil else { return false }
        return listingCount[prefix] == nil
    }

    /// Drops dynamic entries whose expiry is at or before `now`; returns,
    /// sorted, the prefixes that are no longer desired (a prefix a feed
    /// still lists is not among them).
    public mutating func expire(now: Int64) -> [IPPrefix] {
        let lapsed = dynamicEntries.filter { $0.value.expires <= now }.keys
        return lapsed.filter { removeDynamic($0) }.sorted()
    }

    /// Applies a CrowdSec poll: deletions first, then additions with
    /// expiry `now + ttl`, reason the scenario.
    @discardableResult
    public mutating func apply(_ stream: CrowdSecStream, now: Int64) -> BlocklistDiff {
        var diff = BlocklistDiff()
        for prefix in stream.deleted.prefixes where removeDynamic(prefix) {
            diff.deletions.append(prefix)
        }
        for prefix in stream.added.prefixes {
            let metadata = stream.added.metadata(for: prefix)
            let expires = now + Int64(metadata?.ttlSeconds ?? 0)
            if addDynamic(prefix, expires: expires, reason: metadata?.scenario ?? stream.added.source) {
                diff.additions.append(prefix)
            }
        }
        // Deleted then re-added within one poll is no change at all.
        let readded = Set(diff.additions).intersection(diff.deletions)
        diff.additions.removeAll { readded.contains($0) }
        diff.deletions.removeAll { readded.contains($0) }
        return diff.sortedCopy()
    }

    // MARK: Kernel

    /// What to change in a kernel currently holding `current`.
    public func diff(fromKernel current: Set<IPPrefix>) -> BlocklistDiff {
        BlocklistDiff.diff(from: current, to: desired)
    }
}
