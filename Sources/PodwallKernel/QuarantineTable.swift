import PodwallABI

/// The pods under quarantine, by the index of their host-side interface:
/// the kernel drops every new flow of theirs (the allowlist excepted).
public struct QuarantineTable: Sendable {
    public struct Entry: Sendable, Equatable {
        /// Kernel monotonic nanoseconds.
        public var sinceNs: UInt64
        /// nil: until released.
        public var expiresNs: UInt64?
        /// Packets dropped because of it.
        public var drops: UInt64
    }

    let map: BPFMap<UInt32, pw_quarantine>

    /// Quarantines the pod behind `ifindex` from `since` (kernel clock) for
    /// `ttlNs` (nil: until released); its drop count starts again at 0.
    public func quarantine(_ ifindex: UInt32, since: UInt64, for ttlNs: UInt64?) throws {
        try map.update(ifindex, pw_quarantine(since_ns: since, expires_ns: ttlNs.map { since &+ $0 } ?? 0, drops: 0))
    }

    /// False when the pod was not quarantined.
    @discardableResult
    public func release(_ ifindex: UInt32) throws -> Bool {
        try map.delete(ifindex)
    }

    public func entry(_ ifindex: UInt32) throws -> Entry? {
        try map.lookup(ifindex).map(Entry.init)
    }

    public func entries() -> [UInt32: Entry] {
        Dictionary(map.entries().map { ($0.key, Entry($0.value)) }, uniquingKeysWith: { _, last in last })
    }

    public func interfaces() -> [UInt32] {
        map.keys()
    }
}

extension QuarantineTable.Entry {
    init(_ value: pw_quarantine) {
        self.init(sinceNs: value.since_ns, expiresNs: value.expires_ns == 0 ? nil : value.expires_ns, drops: value.drops)
    }
}
