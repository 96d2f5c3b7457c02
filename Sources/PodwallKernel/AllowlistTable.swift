import PodwallABI
import PodwallCore

/// Destinations a pod may always reach, even quarantined or blocklisted
/// (cluster DNS, the API server): an LPM trie of prefixes.
public struct AllowlistTable: Sendable {
    let map: BPFMap<pw_lpm_key, UInt64>
    let policy: PolicyGeneration

    public var count: Int { map.keys().count }

    /// Makes the table hold exactly `prefixes`, adding before removing, then
    /// has the kernel check again the flows a removed entry let through.
    public func replace(with prefixes: [IPPrefix]) throws {
        let wanted = Set(prefixes.map { KeyBytes(pw_lpm_key($0)) })
        for key in wanted where try map.lookup(key.key) == nil {
            try map.update(key.key, 0)
        }
        for key in map.keys() where !wanted.contains(KeyBytes(key)) {
            try map.delete(key)
        }
        try policy.bump()
    }

    /// Hashable wrapper: imported C structs are not Hashable.
    struct KeyBytes: Hashable {
        let key: pw_lpm_key
        init(_ key: pw_lpm_key) { self.key = key }
        static func == (lhs: KeyBytes, rhs: KeyBytes) -> Bool { lhs.bytes == rhs.bytes }
        func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
        var bytes: [UInt8] { withUnsafeBytes(of: key) { Array($0) } }
    }
}
