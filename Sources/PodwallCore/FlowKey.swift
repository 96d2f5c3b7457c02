/// A flow as the kernel tracks it: seen from the pod, with the pod side and
/// the remote side, on one interface.
public struct FlowKey: Hashable, Sendable {
    public var ifindex: UInt32
    public var proto: IPProtocol
    public var pod: IPAddress
    public var podPort: UInt16
    public var remote: IPAddress
    public var remotePort: UInt16

    public init(ifindex: UInt32, proto: IPProtocol, pod: IPAddress, podPort: UInt16, remote: IPAddress, remotePort: UInt16) {
        self.ifindex = ifindex
        self.proto = proto
        self.pod = pod
        self.podPort = podPort
        self.remote = remote
        self.remotePort = remotePort
    }

    // Four words instead of six fields: the detectors hash keys several times per event
    // (inlinable, as they are in another module). Folding the high words loses nothing
    // for IPv4 (they are zero) and equality stays exact.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pod.high ^ (remote.high &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(proto.rawValue))
        hasher.combine(pod.low)
        hasher.combine(remote.low)
        hasher.combine(UInt64(ifindex) << 32 | UInt64(podPort) << 16 | UInt64(remotePort))
    }
}

// Alerts carry flow keys; their names (docs/api/openapi.yaml) call the pod side "local".
extension FlowKey: Codable {
    enum CodingKeys: String, CodingKey {
        case ifindex, proto, remote
        case pod = "local"
        case podPort = "local_port"
        case remotePort = "remote_port"
    }
}
