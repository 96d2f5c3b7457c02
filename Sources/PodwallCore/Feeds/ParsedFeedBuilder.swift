/// Accepted entries of one list: de-duplicated, in first-seen order.
struct ParsedFeedBuilder {
    private(set) var prefixes: [IPPrefix] = []
    private(set) var seen: Set<IPPrefix> = []
    private(set) var metadata: [IPPrefix: FeedEntryMetadata] = [:]
    private(set) var duplicateCount = 0
    var ignoredCount = 0
    /// Line of the first entry beyond the policy's limit.
    private(set) var firstOverflowLine: Int?

    init(expectedCount: Int = 0) {
        // A growing set re-hashes every entry at each doubling; reserving
        // up front halves the hashing work of a large feed.
        prefixes.reserveCapacity(expectedCount)
        seen.reserveCapacity(expectedCount)
    }

    @inline(__always)
    mutating func add(_ prefix: IPPrefix, metadata entryMetadata: FeedEntryMetadata?, line: Int, limit: Int) {
        guard seen.insert(prefix).inserted else {
            duplicateCount += 1
            // The first listing wins, except that a longer TTL extends it:
            // the address must stay blocked until its last decision ends.
            if let newTTL = entryMetadata?.ttlSeconds, newTTL > metadata[prefix]?.ttlSeconds ?? Int.max {
                metadata[prefix] = entryMetadata
            }
            return
        }
        prefixes.append(prefix)
        if let entryMetadata, !entryMetadata.isEmpty { metadata[prefix] = entryMetadata }
        if prefixes.count > limit, firstOverflowLine == nil { firstOverflowLine = line }
    }
}
