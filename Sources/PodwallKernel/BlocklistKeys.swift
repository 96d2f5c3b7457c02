import PodwallABI
import PodwallCore

/// Conversions between the core's addresses and prefixes and the ABI's keys.
extension IPAddress {
    /// The 16 network-order bytes, written straight into a key field.
    func store(
        into tuple:
            inout (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            )
    ) {
        withUnsafeMutableBytes(of: &tuple) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
    }

    init(
        tuple: (
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
        )
    ) {
        let (high, low) = withUnsafeBytes(of: tuple) { raw in
            (
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
        self.init(high: high, low: low)
    }
}

extension pw_addr_key {
    public init(_ address: IPAddress) {
        self.init()
        address.store(into: &addr)
    }
}

extension pw_lpm_key {
    public init(_ prefix: IPPrefix) {
        self.init()
        prefixlen = UInt32(prefix.mappedPrefixLength)
        prefix.address.store(into: &addr)
    }

    init(address: IPAddress, mappedLength: Int) {
        self.init()
        prefixlen = UInt32(mappedLength)
        address.store(into: &addr)
    }
}

extension IPPrefix {
    /// From a key's address and a length in the mapped (128-bit) space.
    init(address: IPAddress, mappedLength: Int) {
        let v4 = address.family == .v4 && mappedLength >= 96
        self.init(containing: address, length: v4 ? mappedLength - 96 : mappedLength)
    }
}
