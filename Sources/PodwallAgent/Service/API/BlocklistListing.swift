import PodwallCore
import PodwallKernel
import Synchronization

/// What `GET /v1/blocklist` pages through: every listed prefix, sorted.
/// Reading and sorting millions of entries costs far more than a page of
/// 1,000, so the sorted prefixes are kept and read again only once the
/// kernel's policy generation has moved (every change to the lists bumps
/// it); each page's entries are read afresh, for current hit counts and
/// expiries.
final class BlocklistListing: Sendable {
    private struct Sorted {
        let generation: UInt32
        let prefixes: [IPPrefix]
    }

    private let sorted = Mutex<Sorted?>(nil)

    /// The page of at most `limit` entries after `cursor` (from the start without one).
    func page(after cursor: BlocklistCursor?, limit: Int, of datapath: Datapath) throws -> BlocklistPage {
        let prefixes = try self.prefixes(datapath)
        let start = cursor.map { Self.firstIndex(in: prefixes, after: $0.after) } ?? 0
        let end = min(start + limit, prefixes.count)
        let slice = Array(prefixes[start..<end])
        let blocklist = datapath.blocklist
        let names = blocklist.feedNamer()
        let now = MonotonicClock.now()
        // An entry gone since the prefixes were read is left out.
        let rows = zip(slice, try blocklist.entries(exactly: slice)).compactMap { prefix, entry in
            entry.map { BlocklistRow(prefix, $0, feeds: names($0.feeds), nowNs: now) }
        }
        let next = end < prefixes.count ? slice.last.map { BlocklistCursor(after: $0).text } : nil
        return BlocklistPage(entries: rows, count: prefixes.count, nextCursor: next)
    }

    /// The sorted prefixes, read again only when the generation has moved.
    func prefixes(_ datapath: Datapath) throws -> [IPPrefix] {
        // Read before the entries: a change made while they are read moves
        // it past this value, so the next request reads them again.
        let generation = try datapath.policy.current()
        if let cached = sorted.withLock({ $0 }), cached.generation == generation { return cached.prefixes }
        let prefixes = datapath.blocklist.entries().keys.sorted()
        sorted.withLock { $0 = Sorted(generation: generation, prefixes: prefixes) }
        return prefixes
    }

    /// The index of the first prefix after `prefix` (binary search).
    static func firstIndex(in prefixes: [IPPrefix], after prefix: IPPrefix) -> Int {
        var (low, high) = (0, prefixes.count)
        while low < high {
            let middle = (low + high) / 2
            if prefixes[middle] <= prefix { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
