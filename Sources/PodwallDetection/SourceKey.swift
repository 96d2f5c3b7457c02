import PodwallCore

/// A pod as the detectors key it: its address on one interface.
public struct SourceKey: Hashable, Sendable, Codable {
    public var address: IPAddress
    public var ifindex: UInt32

    public init(address: IPAddress, ifindex: UInt32) {
        self.address = address
        self.ifindex = ifindex
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address.high ^ UInt64(ifindex) << 32)
        hasher.combine(address.low)
    }
}

extension FlowKey {
    /// The pod this flow belongs to.
    public var source: SourceKey { SourceKey(address: pod, ifindex: ifindex) }
}
