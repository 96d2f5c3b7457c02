import PodwallCore

/// Periodic per-flow egress counter, for volume accounting.
public struct FlowSample: Sendable, Equatable {
    public var key: FlowKey
    /// Kernel clock, nanoseconds.
    public var timestampNs: UInt64
    /// Cumulative bytes pod -> remote since the flow (or its kernel counter) started.
    public var bytesFromPod: UInt64
    /// When the kernel first saw the flow: which connection on these ports
    /// the bytes are of (a later one restarts the count).
    public var firstSeenNs: UInt64
    /// The flow was already running when observation began (a restarted
    /// agent adopting the kernel's flow table): its first sample is only a
    /// starting point, since the bytes before it were sent at unknown times.
    public var predatesObservation: Bool

    public init(
        key: FlowKey, timestampNs: UInt64, bytesFromPod: UInt64, firstSeenNs: UInt64 = 0, predatesObservation: Bool = false
    ) {
        self.key = key
        self.timestampNs = timestampNs
        self.bytesFromPod = bytesFromPod
        self.firstSeenNs = firstSeenNs
        self.predatesObservation = predatesObservation
    }

    /// A flow first seen (kernel clock) before `observedSince` predates observation.
    public init(_ flow: FlowRecord, at time: UInt64, observedSince: UInt64 = 0) {
        self.init(
            key: flow.key, timestampNs: time, bytesFromPod: flow.fromPod.bytes, firstSeenNs: flow.firstSeen,
            predatesObservation: flow.firstSeen < observedSince)
    }
}
