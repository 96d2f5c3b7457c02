/// An address prefix (CIDR): the network address plus a length, with a two-word `contains`.
///
/// The length is in the address's own family (0...32 for IPv4, 0...128 for IPv6); IPv4 prefixes
/// cover only IPv4-mapped addresses, so "0.0.0.0/0" never matches an IPv6 address.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    /// The network address (host bits cleared).
    public let address: IPAddr
    public let length: Int
    private let maskHi: UInt64
    private let maskLo: UInt64

    public init?(_ address: IPAddr, length: Int) {
        let bits = address.isIPv4 ? 96 + length : length
        guard length >= 0, bits <= 128 else { return nil }
        maskHi = Self.mask(bits: min(bits, 64))
        maskLo = Self.mask(bits: max(bits - 64, 0))
        self.address = IPAddr(hi: address.hi & maskHi, lo: address.lo & maskLo)
        self.length = length
    }

    /// "10.0.0.0/8", "fd00::/8"; a bare address is a host prefix.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddr(parts[0]) else { return nil }
        let hostLength = address.isIPv4 ? 32 : 128
        guard let length = parts.count == 2 ? Int(parts[1]) : hostLength else { return nil }
        self.init(address, length: length)
    }

    public func contains(_ candidate: IPAddr) -> Bool {
        candidate.hi & maskHi == address.hi && candidate.lo & maskLo == address.lo
    }

    public var description: String { "\(address)/\(length)" }

    private static func mask(bits: Int) -> UInt64 {
        bits == 0 ? 0 : ~UInt64(0) << UInt64(64 - bits)
    }
}

extension Sequence where Element == IPPrefix {
    /// True when any prefix covers `address` (lists here are short, a linear scan is fastest).
    public func anyContains(_ address: IPAddr) -> Bool {
        for prefix in self where prefix.contains(address) { return true }
        return false
    }
}
