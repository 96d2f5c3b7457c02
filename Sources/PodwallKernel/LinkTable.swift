import PodwallABI
import PodwallCore

/// The pod interfaces podwall's programs are attached to, by ifindex, with
/// what the programs counted on each.
public struct LinkTable: Sendable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// podwall created the interface's clsact qdisc (uninstall removes it).
        public static let qdiscCreated = Flags(rawValue: UInt32(PW_LINK_QDISC_CREATED.rawValue))
        /// Attached through pinned TCX links, not clsact filters.
        public static let tcx = Flags(rawValue: UInt32(PW_LINK_TCX.rawValue))
    }

    /// Packets (GSO segments one by one) and L2 bytes of one direction.
    public struct Traffic: Sendable, Equatable {
        public var packets: UInt64
        public var bytes: UInt64

        public init(packets: UInt64, bytes: UInt64) {
            self.packets = packets
            self.bytes = bytes
        }
    }

    public struct Entry: Sendable, Equatable {
        public var flags: Flags
        /// Kernel monotonic nanoseconds.
        public var attachedNs: UInt64
        /// Every packet the programs saw on the interface since its first
        /// attach, non-IP and dropped ones included.
        public var fromPod: Traffic
        public var toPod: Traffic
        /// The interface's events a full ring refused.
        public var ringDrops: UInt64

        public func traffic(_ direction: FlowDirection) -> Traffic { direction == .fromPod ? fromPod : toPod }

        init(_ link: pw_link) {
            flags = Flags(rawValue: link.flags)
            attachedNs = link.attached_ns
            let fromPod = Int(PW_DIR_FROM_POD.rawValue), toPod = Int(PW_DIR_TO_POD.rawValue)
            let packets = withUnsafeBytes(of: link.packets) { Array($0.bindMemory(to: UInt64.self)) }
            let bytes = withUnsafeBytes(of: link.bytes) { Array($0.bindMemory(to: UInt64.self)) }
            self.fromPod = Traffic(packets: packets[fromPod], bytes: bytes[fromPod])
            self.toPod = Traffic(packets: packets[toPod], bytes: bytes[toPod])
            ringDrops = link.ring_drops
        }
    }

    let map: BPFMap<UInt32, pw_link>

    /// One read of each entry: what a metrics scrape costs, whatever the
    /// size of the flow table.
    public func entries() -> [UInt32: Entry] {
        Dictionary(map.entries().map { ($0.key, Entry($0.value)) }, uniquingKeysWith: { _, last in last })
    }

    public func entry(_ ifindex: UInt32) throws -> Entry? {
        try map.lookup(ifindex).map(Entry.init)
    }

    public func interfaces() -> [UInt32] {
        map.keys()
    }
}
