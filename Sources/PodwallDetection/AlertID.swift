/// Deterministic alert ids: "<kind tag>-<16 hex digits>" of an FNV-1a hash over
/// kind, source and window start, so a replay of the same input yields the same ids.
enum AlertID {
    static func make(kind: AlertKind, source: SourceKey, windowStartNs: UInt64) -> String {
        var hash = FNV1a()
        for byte in kind.rawValue.utf8 { hash.add(byte) }
        hash.add(source.address.high)
        hash.add(source.address.low)
        hash.add(UInt64(source.ifindex))
        hash.add(windowStartNs)
        return kind.idPrefix + "-" + hex16(hash.value)
    }

    static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// 64-bit FNV-1a: tiny, stable across runs and platforms (unlike `Hasher`, which is seeded).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    mutating func add(_ word: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { add(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
    }
}
