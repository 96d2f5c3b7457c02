import Dispatch

/// A set of prefixes kept as a sorted array without duplicates: how a
/// feed's content is held and diffed.
///
/// For a million entries, sorting costs less than hashing every entry into
/// a `Set` (cache misses dominate both), and two sorted lists diff in one
/// sequential pass instead of a million random probes, which is what makes
/// a reload of a large feed cheap. The order is the raw 128-bit value, then
/// the length: a total order that needs no family test per comparison.
public struct SortedPrefixes: Sendable, Hashable, RandomAccessCollection {
    public private(set) var elements: [IPPrefix]

    public init() { elements = [] }

    /// Sorts `prefixes` and drops repeats.
    public init<S: Sequence>(_ prefixes: S) where S.Element == IPPrefix {
        var array = Array(prefixes)
        Self.sort(&array)
        elements = Self.droppingRepeats(array)
    }

    /// `elements` must already be sorted by `precedes` and unique.
    private init(sortedUnique elements: [IPPrefix]) { self.elements = elements }

    public var startIndex: Int { elements.startIndex }
    public var endIndex: Int { elements.endIndex }
    public subscript(position: Int) -> IPPrefix { elements[position] }

    @inline(__always)
    static func precedes(_ a: IPPrefix, _ b: IPPrefix) -> Bool {
        if a.address.high != b.address.high { return a.address.high < b.address.high }
        if a.address.low != b.address.low { return a.address.low < b.address.low }
        return a.mappedPrefixLength < b.mappedPrefixLength
    }

    public func contains(_ prefix: IPPrefix) -> Bool {
        var low = 0, high = elements.count
        while low < high {
            let middle = (low + high) / 2
            if Self.precedes(elements[middle], prefix) { low = middle + 1 } else { high = middle }
        }
        return low < elements.count && elements[low] == prefix
    }

    /// What `self` has that `old` lacks, and what `old` has that `self` lacks,
    /// in one merge of the two lists.
    public func difference(from old: SortedPrefixes) -> (added: [IPPrefix], removed: [IPPrefix]) {
        var added: [IPPrefix] = [], removed: [IPPrefix] = []
        merge(old, onlyInSelf: { added.append($0) }, onlyInOther: { removed.append($0) }, inBoth: { _ in })
        return (added, removed)
    }

    public func union(_ other: SortedPrefixes) -> SortedPrefixes {
        var result: [IPPrefix] = []
        result.reserveCapacity(Swift.max(count, other.count))
        merge(other, onlyInSelf: { result.append($0) }, onlyInOther: { result.append($0) }, inBoth: { result.append($0) })
        return SortedPrefixes(sortedUnique: result)
    }

    public func subtracting(_ other: SortedPrefixes) -> SortedPrefixes {
        var result: [IPPrefix] = []
        merge(other, onlyInSelf: { result.append($0) }, onlyInOther: { _ in }, inBoth: { _ in })
        return SortedPrefixes(sortedUnique: result)
    }

    /// For each of `sorted` (sorted by the same order), whether `self` holds it.
    public func membership(of sorted: [IPPrefix]) -> [Bool] {
        var result: [Bool] = []
        result.reserveCapacity(sorted.count)
        SortedPrefixes(sortedUnique: sorted).merge(
            self, onlyInSelf: { _ in result.append(false) }, onlyInOther: { _ in },
            inBoth: { _ in result.append(true) })
        return result
    }

    @inline(__always)
    private func merge(
        _ other: SortedPrefixes, onlyInSelf: (IPPrefix) -> Void, onlyInOther: (IPPrefix) -> Void,
        inBoth: (IPPrefix) -> Void
    ) {
        var mine = 0, theirs = 0
        let a = elements, b = other.elements
        while mine < a.count, theirs < b.count {
            if Self.precedes(a[mine], b[theirs]) {
                onlyInSelf(a[mine]); mine += 1
            } else if Self.precedes(b[theirs], a[mine]) {
                onlyInOther(b[theirs]); theirs += 1
            } else {
                inBoth(a[mine]); mine += 1; theirs += 1
            }
        }
        while mine < a.count { onlyInSelf(a[mine]); mine += 1 }
        while theirs < b.count { onlyInOther(b[theirs]); theirs += 1 }
    }

    /// Sorts large arrays as two halves on two threads, then merges them:
    /// parsing a million-line feed waits for this.
    static func sort(_ array: inout [IPPrefix]) {
        guard array.count >= 65_536 else {
            array.sort(by: precedes)
            return
        }
        let middle = array.count / 2
        array.withUnsafeMutableBufferPointer { buffer in
            // Each thread sorts its own half: no element is shared.
            nonisolated(unsafe) let halves = [
                UnsafeMutableBufferPointer(rebasing: buffer[..<middle]),
                UnsafeMutableBufferPointer(rebasing: buffer[middle...])
            ]
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                var half = halves[index]
                half.sort(by: precedes)
            }
        }
        var merged: [IPPrefix] = []
        merged.reserveCapacity(array.count)
        var left = 0, right = middle
        while left < middle, right < array.count {
            if precedes(array[right], array[left]) {
                merged.append(array[right]); right += 1
            } else {
                merged.append(array[left]); left += 1
            }
        }
        merged.append(contentsOf: array[left..<middle])
        merged.append(contentsOf: array[right...])
        array = merged
    }

    private static func droppingRepeats(_ sorted: [IPPrefix]) -> [IPPrefix] {
        guard sorted.count > 1 else { return sorted }
        var unique = sorted
        var kept = 1
        for index in 1..<sorted.count where sorted[index] != unique[kept - 1] {
            unique[kept] = sorted[index]
            kept += 1
        }
        unique.removeLast(unique.count - kept)
        return unique
    }
}
