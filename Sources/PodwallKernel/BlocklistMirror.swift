import PodwallCore

/// What the kernel's blocklist holds, as `Blocklist` knows it: each feed
/// slot's members and the dynamic entries with their expiry. An entry's feed
/// bits follow from these, so a reload merges two sorted lists and touches
/// only the entries that change, never walking a million-entry map.
struct BlocklistMirror {
    var members: [UInt32: SortedPrefixes] = [:]
    var dynamic: [IPPrefix: UInt64] = [:]
    /// How many keys each kernel map holds: with the maps' capacity, what
    /// decides whether a change fits before any of it is written.
    var inUse = KeyCounts()
    var loaded = false

    /// Runs writes to the kernel maps. When the kernel refuses one part-way,
    /// the store no longer knows what the maps hold: it forgets the mirror
    /// and reads the kernel again on the next call.
    mutating func forgettingOnError<Result>(_ body: (inout BlocklistMirror) throws -> Result) rethrows -> Result {
        do {
            return try body(&self)
        } catch {
            self = BlocklistMirror()
            throw error
        }
    }

    /// The feed bits `prefix` has now.
    func feedBits(_ prefix: IPPrefix) -> UInt64 {
        var bits: UInt64 = dynamic[prefix] != nil ? Blocklist.dynamicBit : 0
        for (slot, set) in members where set.contains(prefix) {
            bits |= 1 << UInt64(slot)
        }
        return bits
    }

    /// The feed bits of many prefixes (sorted as `SortedPrefixes` sorts)
    /// from every slot but `excluded`: one merge per other feed.
    func feedBits(ofSorted prefixes: [IPPrefix], excluding excluded: UInt32) -> [UInt64] {
        var bits =
            dynamic.isEmpty
            ? [UInt64](repeating: 0, count: prefixes.count)
            : prefixes.map { dynamic[$0] != nil ? Blocklist.dynamicBit : 0 }
        for (slot, set) in members where slot != excluded {
            for (index, listed) in set.membership(of: prefixes).enumerated() where listed {
                bits[index] |= 1 << UInt64(slot)
            }
        }
        return bits
    }
}

/// Kernel keys by map: single addresses (hash map) and prefixes (trie).
struct KeyCounts {
    var hosts = 0
    var nets = 0

    init() {}

    init<Prefixes: Sequence<IPPrefix>>(_ prefixes: Prefixes) {
        add(prefixes)
    }

    mutating func add<Prefixes: Sequence<IPPrefix>>(_ prefixes: Prefixes, times sign: Int = 1) {
        for prefix in prefixes {
            if prefix.isSingleAddress { hosts += sign } else { nets += sign }
        }
    }
}
