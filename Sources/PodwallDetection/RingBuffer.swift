/// A FIFO queue over one array: O(1) append / removeFirst / indexed access, no per-element
/// allocation. Popped slots are overwritten later rather than released, so use it for
/// plain values.
struct RingBuffer<Element>: Sendable where Element: Sendable {
    private var storage: [Element] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var first: Element? { count == 0 ? nil : storage[head] }
    var capacity: Int { storage.capacity }

    mutating func append(_ element: Element) {
        if count < storage.count {
            storage[physical(count)] = element
        } else {
            // Full: grow in place when already linear, otherwise straighten once first.
            if head != 0 {
                storage = Array(storage[head...] + storage[..<head])
                head = 0
            }
            storage.append(element)
        }
        count += 1
    }

    @discardableResult
    mutating func removeFirst() -> Element {
        precondition(count > 0, "removeFirst on an empty RingBuffer")
        let element = storage[head]
        head = head + 1 == storage.count ? 0 : head + 1
        count -= 1
        return element
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
        count = 0
    }

    /// Logical index: 0 is the oldest element.
    subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "RingBuffer index out of range")
            return storage[physical(index)]
        }
        set {
            precondition(index >= 0 && index < count, "RingBuffer index out of range")
            storage[physical(index)] = newValue
        }
    }

    private func physical(_ index: Int) -> Int {
        let position = head + index
        return position < storage.count ? position : position - storage.count
    }
}
