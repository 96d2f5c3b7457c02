/// Keys in arrival order, removed lazily: a key leaving its table elsewhere
/// leaves a stale stamp here that `compact` drops once stale stamps
/// outnumber valid ones, so the storage stays within about twice the valid.
struct ArrivalQueue<Key: Hashable & Sendable>: Sendable {
    struct Stamp: Sendable {
        var key: Key
        /// Tells a stamp from a later one for the same key (a key re-inserted).
        var sequence: UInt64
        var timeNs: UInt64
    }

    private(set) var storage: [Stamp] = []
    private var head = 0

    var first: Stamp? { head < storage.count ? storage[head] : nil }

    mutating func append(_ stamp: Stamp) { storage.append(stamp) }

    mutating func popFirst() -> Stamp? {
        guard let stamp = first else { return nil }
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
        return stamp
    }

    /// Cheap unless the storage (popped stamps included) outgrew `validCount`.
    mutating func compact(validCount: Int, isValid: (Stamp) -> Bool) {
        guard storage.count > 2 * validCount + 64 else { return }
        storage = storage[head...].filter(isValid)
        head = 0
    }
}
