/// A minimal 128-bit IP address for the detectors.
///
/// IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`) so both families share one fixed-size,
/// allocation-free value with a two-word hash. Deliberately small so it can later be merged
/// with the richer `IPAddress` type (same layout: network-order bytes packed big-endian).
public struct IPAddr: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0...7 in network order, packed big-endian.
    public var hi: UInt64
    /// Bytes 8...15 in network order, packed big-endian.
    public var lo: UInt64

    public init(hi: UInt64, lo: UInt64) {
        self.hi = hi
        self.lo = lo
    }

    /// IPv4 from its 32-bit value (a.b.c.d == a<<24 | b<<16 | c<<8 | d).
    public init(ipv4 value: UInt32) {
        self.init(hi: 0, lo: 0xffff_0000_0000 | UInt64(value))
    }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.init(ipv4: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// From 4 (IPv4) or 16 (IPv6) network-order bytes.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            self.init(ipv4: bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            var hi: UInt64 = 0, lo: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { hi = hi << 8 | UInt64(byte) } else { lo = lo << 8 | UInt64(byte) }
            }
            self.init(hi: hi, lo: lo)
        default:
            return nil
        }
    }

    public var isIPv4: Bool { hi == 0 && lo >> 32 == 0xffff }
    public var ipv4Value: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: lo) : nil }

    public var bytes: [UInt8] {
        (0..<16).map { index in
            UInt8(truncatingIfNeeded: (index < 8 ? hi : lo) >> UInt64(56 - 8 * (index % 8)))
        }
    }

    public static func < (lhs: IPAddr, rhs: IPAddr) -> Bool {
        (lhs.hi, lhs.lo) < (rhs.hi, rhs.lo)
    }

    public var description: String {
        if let v4 = ipv4Value {
            return "\(v4 >> 24).\(v4 >> 16 & 0xff).\(v4 >> 8 & 0xff).\(v4 & 0xff)"
        }
        return ipv6Text
    }

    /// RFC 5952: lower-case hex, the first longest run (>= 2) of zero groups written as "::".
    private var ipv6Text: String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: ($0 < 4 ? hi : lo) >> UInt64(48 - 16 * ($0 % 4))) }
        var bestStart = -1, bestLength = 1, runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength { bestStart = runStart; bestLength = index - runStart }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

// MARK: - Text parsing

extension IPAddr {
    /// Parses dotted IPv4 ("10.0.0.1") or IPv6 ("fd00::1", "::ffff:10.0.0.1").
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        if !utf8.contains(Self.colon) {
            guard let v4 = Self.parseIPv4(utf8[...]) else { return nil }
            self.init(ipv4: v4)
            return
        }
        guard let groups = Self.parseIPv6Groups(utf8) else { return nil }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for (index, group) in groups.enumerated() {
            if index < 4 { hi = hi << 16 | UInt64(group) } else { lo = lo << 16 | UInt64(group) }
        }
        self.init(hi: hi, lo: lo)
    }

    private static let colon = UInt8(ascii: ":")
    private static let dot = UInt8(ascii: ".")

    static func parseIPv4(_ text: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0
        for char in text {
            if char == dot {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0; digits = 0; dots += 1
            } else if let digit = decimalValue(char) {
                octet = octet * 10 + digit
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    /// Eight 16-bit groups, with "::" expanded and a trailing dotted IPv4 split in two.
    private static func parseIPv6Groups(_ text: [UInt8]) -> [UInt16]? {
        var gap: Int?
        var index = 0
        while index + 1 < text.count {
            if text[index] == colon && text[index + 1] == colon {
                if gap != nil { return nil }
                gap = index
                index += 2
            } else {
                index += 1
            }
        }
        guard let gap else {
            guard let groups = parseGroups(text[...], mayEndInIPv4: true), groups.count == 8 else { return nil }
            return groups
        }
        guard let head = parseGroups(text[..<gap], mayEndInIPv4: false),
              let tail = parseGroups(text[(gap + 2)...], mayEndInIPv4: true),
              head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    private static func parseGroups(_ text: ArraySlice<UInt8>, mayEndInIPv4: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: colon, omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if mayEndInIPv4 && index == parts.count - 1 && part.contains(dot) {
                guard let v4 = parseIPv4(part) else { return nil }
                groups += [UInt16(truncatingIfNeeded: v4 >> 16), UInt16(truncatingIfNeeded: v4)]
                continue
            }
            guard (1...4).contains(part.count) else { return nil }
            var group: UInt16 = 0
            for char in part {
                guard let nibble = hexValue(char) else { return nil }
                group = group << 4 | nibble
            }
            groups.append(group)
        }
        return groups
    }

    private static func decimalValue(_ char: UInt8) -> UInt32? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(char) ? UInt32(char - UInt8(ascii: "0")) : nil
    }

    private static func hexValue(_ char: UInt8) -> UInt16? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt16(char - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt16(char - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt16(char - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

// Encoded as its text form so alerts stay readable.
extension IPAddr: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = IPAddr(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an IP address: \(text)")
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
