import Foundation

/// A pod's new flows past its event budget, counted in the kernel over one
/// interval instead of reported one by one (PW_EVENT_FLOW_SUMMARY): what a
/// flooding pod still shows of itself.
public struct FlowSummary: Hashable, Sendable {
    /// The pod's host-side interface.
    public var ifindex: UInt32
    /// Kernel monotonic nanoseconds: the interval the counts cover.
    public var startNs: UInt64
    public var endNs: UInt64
    public var newFlows: UInt64
    /// Of them, opened by the pod (the rest came from outside: the pod is flooded).
    public var podInitiated: UInt64
    /// New flows that were TCP opened by a SYN without ACK.
    public var tcpSyns: UInt64
    /// Summarized flows that got an answer.
    public var replies: UInt64
    /// Drop events of summarized flows the kernel did not send.
    public var dropEvents: UInt64
    public var bytes: UInt64
    /// 64-bit sketches of the remote ports and hosts of the flows the pod
    /// opened (one bit per hash).
    public var remotePortsSketch: UInt64
    public var remoteHostsSketch: UInt64

    public init(
        ifindex: UInt32, startNs: UInt64, endNs: UInt64, newFlows: UInt64, podInitiated: UInt64? = nil, tcpSyns: UInt64 = 0,
        replies: UInt64 = 0,
        dropEvents: UInt64 = 0, bytes: UInt64 = 0, remotePortsSketch: UInt64 = 0, remoteHostsSketch: UInt64 = 0
    ) {
        self.ifindex = ifindex
        self.startNs = startNs
        self.endNs = endNs
        self.newFlows = newFlows
        self.podInitiated = podInitiated ?? newFlows
        self.tcpSyns = tcpSyns
        self.replies = replies
        self.dropEvents = dropEvents
        self.bytes = bytes
        self.remotePortsSketch = remotePortsSketch
        self.remoteHostsSketch = remoteHostsSketch
    }

    public var seconds: Double { Double(endNs &- startNs) / 1e9 }

    /// New flows a second over the interval.
    public var newFlowsPerSecond: Double { seconds > 0 ? Double(newFlows) / seconds : 0 }

    /// New flows the pod opened, a second.
    public var podInitiatedPerSecond: Double { seconds > 0 ? Double(podInitiated) / seconds : 0 }

    /// The share of new flows that got no answer.
    public var unansweredShare: Double { newFlows > 0 ? 1 - min(1, Double(replies) / Double(newFlows)) : 0 }

    /// Distinct remote ports and hosts, estimated from the sketches (linear
    /// counting: exact while few, about 250 at most).
    public var distinctRemotePorts: Int { Self.estimate(remotePortsSketch) }
    public var distinctRemoteHosts: Int { Self.estimate(remoteHostsSketch) }

    static func estimate(_ sketch: UInt64) -> Int {
        let empty = 64 - sketch.nonzeroBitCount
        guard empty > 0 else { return Int((64 * log(64.0)).rounded()) }
        return Int((-64 * log(Double(empty) / 64)).rounded())
    }
}
