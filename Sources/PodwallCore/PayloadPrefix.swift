/// The first (up to 32) payload bytes of one flow direction, stored inline.
///
/// A fixed 32-byte value (the kernel's PW_PAYLOAD_SNAP) instead of `[UInt8]`, so that decoding,
/// building and passing a `FlowEvent` never touches the heap on the hot path; `bytes` and the
/// literal inits convert.
public struct PayloadPrefix: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral,
    ExpressibleByStringLiteral
{
    public static let capacity = 32

    // Inlinable accessors: the detectors read payloads byte by byte from another module.
    @usableFromInline var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    @usableFromInline var length: UInt8 = 0

    public init() {}

    /// Keeps the first `capacity` bytes of `bytes`.
    public init(_ bytes: some Sequence<UInt8>) {
        withUnsafeMutableBytes(of: &storage) { buffer in
            for byte in bytes {
                guard Int(length) < Self.capacity else { break }
                buffer[Int(length)] = byte
                length += 1
            }
        }
    }

    /// A kernel record's snapshot: one copy, no byte-by-byte walk through a generic sequence.
    public init(_ bytes: UnsafeRawBufferPointer) {
        length = UInt8(Swift.min(bytes.count, Self.capacity))
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(Int(length)))) }
    }

    public init(_ text: String) {
        self.init(text.utf8)
    }

    public init(arrayLiteral elements: UInt8...) {
        self.init(elements)
    }

    public init(stringLiteral text: String) {
        self.init(text.utf8)
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { Int(length) }

    @inlinable
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < Int(length), "payload index out of range")
        return withUnsafeBytes(of: storage) { $0[position] }
    }

    public var bytes: [UInt8] { Array(self) }

    public static func == (lhs: PayloadPrefix, rhs: PayloadPrefix) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(length)
        for byte in self { hasher.combine(byte) }
    }
}
