/// Address family as written in a feed.
public enum IPFamily: Sendable, Hashable, Comparable, CustomStringConvertible {
    case v4
    case v6

    public var description: String { self == .v4 ? "IPv4" : "IPv6" }

    /// Longest prefix length in the family's own notation (32 or 128).
    public var maxPrefixLength: Int { self == .v4 ? 32 : 128 }
}

/// An IPv4 or IPv6 address held as 16 bytes.
///
/// IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`), the same convention as the
/// kernel maps, so one key type serves both families. As a consequence the
/// IPv6 text `::ffff:1.2.3.4` *is* the IPv4 address `1.2.3.4`: both name the
/// same kernel key, so treating them as different values would only create
/// duplicates.
public struct IPAddress: Hashable, Sendable {
    /// Bytes 0-7 of the address as a big-endian number.
    public let high: UInt64
    /// Bytes 8-15 of the address as a big-endian number.
    public let low: UInt64

    /// `::ffff:0:0` — the IPv4-mapped range begins here.
    static let mappedMarker: UInt64 = 0xffff_0000_0000

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The IPv4 address whose 32-bit value (a.b.c.d = a<<24 | ...) is `ipv4`.
    public init(ipv4: UInt32) {
        self.init(high: 0, low: Self.mappedMarker | UInt64(ipv4))
    }

    /// Builds an address from exactly 16 network-order bytes in memory (the
    /// kernel's records): two loads, where the generic collection's walk,
    /// unspecialized across modules, cost a quarter of the agent's time per
    /// event at its ingest ceiling (BENCHMARKS.md).
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 16 else { return nil }
        self.init(
            high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Builds an address from exactly 16 network-order bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.init(high: high, low: low)
    }

    public var family: IPFamily {
        high == 0 && low >> 32 == 0xffff ? .v4 : .v6
    }

    /// 127.0.0.0/8 or ::1: a host talking to itself.
    public var isLoopback: Bool {
        ipv4.map { $0 >> 24 == 127 } ?? (high == 0 && low == 1)
    }

    /// 0.0.0.0 or ::, a socket not yet connected.
    public var isUnspecified: Bool {
        ipv4.map { $0 == 0 } ?? (high == 0 && low == 0)
    }

    /// The 32-bit IPv4 value, or nil for an IPv6 address.
    public var ipv4: UInt32? {
        family == .v4 ? UInt32(truncatingIfNeeded: low) : nil
    }

    /// The 16 bytes in network order, as the kernel map keys hold them.
    public var bytes: [UInt8] {
        (0..<16).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
        }
    }
}

extension IPAddress: Comparable {
    /// IPv4 sorts before IPv6, then numerically — the order people expect in
    /// logs and diffs.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        let lhsFamily = lhs.family, rhsFamily = rhs.family
        if lhsFamily != rhsFamily { return lhsFamily < rhsFamily }
        return (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension IPAddress: CustomStringConvertible, LosslessStringConvertible {
    /// Dotted quad for IPv4, RFC 5952 text for IPv6.
    public var description: String { IPTextFormatter.format(self) }

    /// Parses a single address (no `/length`), IPv4 or IPv6.
    public init?(_ description: String) {
        guard case .success(let address) = Self.parse(description) else { return nil }
        self = address
    }

    /// Parses a single address, saying why when it is not one.
    public static func parse(_ text: String) -> Result<IPAddress, IPParseError> {
        // Checked first: otherwise "10.1.2.3/8" would be blamed for host bits.
        if text.utf8.contains(UInt8(ascii: "/")) { return .failure(.notSingleAddress) }
        return IPPrefix.parse(text).map(\.address)
    }
}

// Alerts write addresses as text, to stay readable.
extension IPAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an IP address: \(text)")
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
