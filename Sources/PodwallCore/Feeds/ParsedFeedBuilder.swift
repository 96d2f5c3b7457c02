/// Collects a feed's accepted entries while it is parsed.
struct ParsedFeedBuilder {
    /// Every accepted entry in feed order, repeats included: repeats are
    /// found once, by sorting, when the feed is finished (cheaper than a
    /// hash-set insert per line for a million-line feed).
    private(set) var listed: [IPPrefix] = []
    /// The line of each entry of `listed`, for the error of a feed that
    /// lists too many.
    private var lines: [Int32] = []
    private(set) var metadata: [IPPrefix: FeedEntryMetadata] = [:]
    var ignoredCount = 0

    init(expectedCount: Int = 0) {
        listed.reserveCapacity(expectedCount)
        lines.reserveCapacity(expectedCount)
    }

    @inline(__always)
    mutating func add(_ prefix: IPPrefix, metadata entryMetadata: FeedEntryMetadata?, line: Int) {
        listed.append(prefix)
        lines.append(Int32(truncatingIfNeeded: line))
        if let entryMetadata, !entryMetadata.isEmpty { merge(entryMetadata, for: prefix) }
    }

    /// The first listing wins, except that a longer TTL extends it: the
    /// address must stay blocked until its last decision ends.
    private mutating func merge(_ entryMetadata: FeedEntryMetadata, for prefix: IPPrefix) {
        if let existing = metadata[prefix] {
            if let newTTL = entryMetadata.ttlSeconds, newTTL > existing.ttlSeconds ?? Int.max { metadata[prefix] = entryMetadata }
        } else {
            metadata[prefix] = entryMetadata
        }
    }

    /// Appends what a builder of the text that follows collected.
    mutating func append(_ later: ParsedFeedBuilder) {
        listed += later.listed
        lines += later.lines
        for (prefix, entryMetadata) in later.metadata { merge(entryMetadata, for: prefix) }
        ignoredCount += later.ignoredCount
    }

    /// The line of the entry that took the unique count past `limit`
    /// (only asked of a feed known to be over it).
    func lineOfEntry(exceeding limit: Int) -> Int? {
        var seen = Set<IPPrefix>()
        for (prefix, line) in zip(listed, lines) where seen.insert(prefix).inserted && seen.count > limit {
            return Int(line)
        }
        return nil
    }
}
