/// IP protocol numbers the detectors care about.
public enum IPProto {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpv6: UInt8 = 58

    static func name(_ proto: UInt8) -> String {
        switch proto {
        case icmp: "icmp"
        case tcp: "tcp"
        case udp: "udp"
        case icmpv6: "icmpv6"
        default: "proto-\(proto)"
        }
    }
}

/// One flow seen from the pod: the pod side is `local`, the other side `remote`.
public struct FlowKey: Hashable, Sendable {
    public var ifindex: UInt32
    /// IP protocol number (see `IPProto`).
    public var proto: UInt8
    public var local: IPAddr
    public var localPort: UInt16
    public var remote: IPAddr
    public var remotePort: UInt16

    public init(ifindex: UInt32, proto: UInt8, local: IPAddr, localPort: UInt16, remote: IPAddr, remotePort: UInt16) {
        self.ifindex = ifindex
        self.proto = proto
        self.local = local
        self.localPort = localPort
        self.remote = remote
        self.remotePort = remotePort
    }

    /// The pod this flow belongs to.
    public var source: SourceKey { SourceKey(address: local, ifindex: ifindex) }

    // Four words instead of six fields: this hash runs several times per event on the hot path.
    // Folding the high words loses nothing for IPv4 (they are zero) and equality stays exact.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(local.hi ^ (remote.hi &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(proto))
        hasher.combine(local.lo)
        hasher.combine(remote.lo)
        hasher.combine(UInt64(ifindex) << 32 | UInt64(localPort) << 16 | UInt64(remotePort))
    }
}

extension FlowKey: Codable {
    enum CodingKeys: String, CodingKey {
        case ifindex, proto, local, remote
        case localPort = "local_port"
        case remotePort = "remote_port"
    }
}

/// A pod as the detectors key it: its address on one interface.
public struct SourceKey: Hashable, Sendable, Codable {
    public var address: IPAddr
    public var ifindex: UInt32

    public init(address: IPAddr, ifindex: UInt32) {
        self.address = address
        self.ifindex = ifindex
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address.hi ^ UInt64(ifindex) << 32)
        hasher.combine(address.lo)
    }
}
