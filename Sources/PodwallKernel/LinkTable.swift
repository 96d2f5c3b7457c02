import PodwallABI

/// The pod interfaces podwall's programs are attached to, by ifindex.
public struct LinkTable: Sendable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// podwall created the interface's clsact qdisc (uninstall removes it).
        public static let qdiscCreated = Flags(rawValue: UInt32(PW_LINK_QDISC_CREATED.rawValue))
        /// Attached through pinned TCX links, not clsact filters.
        public static let tcx = Flags(rawValue: UInt32(PW_LINK_TCX.rawValue))
    }

    public struct Entry: Sendable, Equatable {
        public var flags: Flags
        /// Kernel monotonic nanoseconds.
        public var attachedNs: UInt64
    }

    let map: BPFMap<UInt32, pw_link>

    public func entries() -> [UInt32: Entry] {
        Dictionary(
            map.entries().map { ($0.key, Entry(flags: Flags(rawValue: $0.value.flags), attachedNs: $0.value.attached_ns)) },
            uniquingKeysWith: { _, last in last })
    }

    public func interfaces() -> [UInt32] {
        map.keys()
    }
}
