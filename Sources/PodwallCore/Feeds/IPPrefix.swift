/// An address block: an address with its host bits cleared plus a length.
///
/// Internally the length is counted in the 128-bit space the kernel's LPM
/// trie uses (IPv4 /n is /96+n), so equality and hashing agree with kernel
/// keys. A bare address is a /32 or /128.
public struct IPPrefix: Hashable, Sendable {
    /// The network address (host bits always zero).
    public let address: IPAddress
    @usableFromInline let mappedLength: UInt8

    /// Prefix length in the 128-bit (IPv4-mapped) space: IPv4 /n is 96+n.
    public var mappedPrefixLength: Int { Int(mappedLength) }

    /// IPv4 for IPv4-mapped addresses covering at most the mapped range.
    public var family: IPFamily {
        mappedLength >= 96 && address.family == .v4 ? .v4 : .v6
    }

    /// Prefix length in the family's own notation (0-32 or 0-128).
    public var length: Int {
        family == .v4 ? Int(mappedLength) - 96 : Int(mappedLength)
    }

    /// True for /32 and /128: the kernel keeps these in hash maps rather
    /// than the LPM trie.
    public var isSingleAddress: Bool { mappedLength == 128 }

    /// Validated only by the callers in this file.
    private init(validated address: IPAddress, mappedLength: Int) {
        self.address = address
        self.mappedLength = UInt8(mappedLength)
    }

    /// A prefix from an address and a family-relative length; refuses an
    /// out-of-range length or set host bits rather than guessing.
    public init(address: IPAddress, length: Int) throws(IPParseError) {
        let family = address.family
        guard (0...family.maxPrefixLength).contains(length) else {
            throw .prefixLengthOutOfRange(length: length, family: family)
        }
        let mapped = family == .v4 ? 96 + length : length
        let masked = Self.clearHostBits(address, mappedLength: mapped)
        guard masked == address else { throw .hostBitsSet(masked: IPPrefix(validated: masked, mappedLength: mapped)) }
        self.init(validated: address, mappedLength: mapped)
    }

    /// The prefix of the given length that contains `address`.
    public init(containing address: IPAddress, length: Int) {
        let family = address.family
        precondition((0...family.maxPrefixLength).contains(length), "prefix length \(length) out of range for \(family)")
        let mapped = family == .v4 ? 96 + length : length
        self.init(validated: Self.clearHostBits(address, mappedLength: mapped), mappedLength: mapped)
    }

    /// The /32 or /128 holding just `address`.
    public init(host address: IPAddress) {
        self.init(validated: address, mappedLength: 128)
    }

    // Inlinable, as the detectors ask it per volume sample (cluster CIDRs) from another module.
    @inlinable
    public func contains(_ other: IPAddress) -> Bool {
        let masked = Self.clearHostBits(other, mappedLength: Int(mappedLength))
        return masked.high == address.high && masked.low == address.low
    }

    @inlinable
    static func clearHostBits(_ address: IPAddress, mappedLength: Int) -> IPAddress {
        // Swift's `<<` yields 0 for shifts >= 64, which covers /0 and /64.
        let highMask: UInt64 = mappedLength >= 64 ? ~0 : ~0 << UInt64(64 - mappedLength)
        let lowMask: UInt64 = mappedLength <= 64 ? 0 : ~0 << UInt64(128 - mappedLength)
        return IPAddress(high: address.high & highMask, low: address.low & lowMask)
    }
}

extension IPPrefix {
    // Sets and dictionaries of prefixes (dynamic entries, the detectors,
    // feeds that repeat entries) hash them often. Canonical prefixes have zero host bits, so adding the
    // length to the low word loses nothing up to /120 and at worst makes a
    // few prefixes share a hash input.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(address.high)
        hasher.combine(address.low &+ UInt64(mappedLength))
    }

    /// What Set and Dictionary actually call. The default goes through the
    /// non-inlinable `Hasher` API, measured at ~3x the cost of this chain of
    /// the standard library's own one-word SipHash, which keeps the per-table
    /// random seed, so a crafted feed still cannot force collisions.
    public func _rawHashValue(seed: Int) -> Int {
        (address.low &+ UInt64(mappedLength))._rawHashValue(seed: address.high._rawHashValue(seed: seed))
    }

    /// Parses `address` or `address/length` from UTF-8 bytes; the feed hot
    /// path. A `:` before any `/` means IPv6, otherwise a `.` means IPv4.
    public static func parse(utf8 text: UnsafeBufferPointer<UInt8>) -> Result<IPPrefix, IPParseError> {
        // Fast path for the most common entry, an IPv4 address or prefix; any
        // irregularity falls through to the general path, which names it.
        if let (value, end) = IPTextParser.scanIPv4(text) {
            return validated(IPAddress(ipv4: value), family: .v4, lengthText: end < text.count ? text.range(end + 1, text.count) : nil)
        }
        var slash: Int? = nil
        var sawColon = false
        var sawDot = false
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "/") {
                slash = index
                break
            }
            sawColon = sawColon || byte == IPTextParser.colon
            sawDot = sawDot || byte == IPTextParser.dot
            index += 1
        }
        let addressText = text.range(0, slash ?? text.count)
        let address: IPAddress
        let textFamily: IPFamily
        if sawColon {
            guard let parsed = IPTextParser.parseIPv6(addressText) else { return .failure(.notIPv6) }
            (address, textFamily) = (parsed, .v6)
        } else if sawDot {
            guard let parsed = IPTextParser.parseIPv4(addressText) else { return .failure(.notIPv4) }
            (address, textFamily) = (IPAddress(ipv4: parsed), .v4)
        } else {
            return .failure(.notAnAddress)
        }
        return validated(address, family: textFamily, lengthText: slash.map { text.range($0 + 1, text.count) })
    }

    /// Checks the optional `/length` (nil: a single address) and host bits.
    private static func validated(
        _ address: IPAddress, family: IPFamily, lengthText: UnsafeBufferPointer<UInt8>?
    ) -> Result<IPPrefix, IPParseError> {
        var length = family.maxPrefixLength
        if let lengthText {
            guard let parsed = IPTextParser.parseLength(lengthText) else { return .failure(.invalidPrefixLength) }
            guard parsed <= length else { return .failure(.prefixLengthOutOfRange(length: parsed, family: family)) }
            length = parsed
        }
        let mapped = family == .v4 ? 96 + length : length
        let masked = IPPrefix(validated: clearHostBits(address, mappedLength: mapped), mappedLength: mapped)
        guard masked.address == address else { return .failure(.hostBitsSet(masked: masked)) }
        return .success(masked)
    }

    public static func parse(_ text: String) -> Result<IPPrefix, IPParseError> {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }
}

extension IPPrefix: CustomStringConvertible, LosslessStringConvertible {
    /// Canonical text; a single address is written bare, as FireHOL and
    /// abuse.ch lists write them.
    public var description: String {
        isSingleAddress ? address.description : "\(address)/\(length)"
    }

    public init?(_ description: String) {
        guard case .success(let prefix) = Self.parse(description) else { return nil }
        self = prefix
    }
}

extension Sequence where Element == IPPrefix {
    /// True when any prefix covers `address` (such lists are short: a linear scan is fastest).
    /// Inlinable so that it is specialized for the caller's collection.
    @inlinable
    public func anyContains(_ address: IPAddress) -> Bool {
        for prefix in self where prefix.contains(address) { return true }
        return false
    }
}

extension IPPrefix: Comparable {
    /// Address order (IPv4 first), then shorter prefixes first.
    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        if lhs.address != rhs.address { return lhs.address < rhs.address }
        return lhs.mappedLength < rhs.mappedLength
    }
}
