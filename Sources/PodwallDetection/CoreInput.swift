import PodwallCore

/// The core's flow model (what the kernel and `podwall replay` produce) in
/// the detectors' input model.
extension IPAddr {
    public init(_ address: IPAddress) {
        self.init(hi: address.high, lo: address.low)
    }
}

extension IPAddress {
    public init(_ address: IPAddr) {
        self.init(high: address.hi, low: address.lo)
    }
}

extension FlowKey {
    public init(_ key: PodwallCore.FlowKey) {
        self.init(ifindex: key.ifindex, proto: key.proto.rawValue, local: IPAddr(key.pod), localPort: key.podPort,
                  remote: IPAddr(key.remote), remotePort: key.remotePort)
    }
}

extension PodwallCore.FlowKey {
    /// Back to the core's model (for captures of an alert's flow).
    public init(_ key: FlowKey) {
        self.init(ifindex: key.ifindex, proto: IPProtocol(rawValue: key.proto), pod: IPAddress(key.local),
                  podPort: key.localPort, remote: IPAddress(key.remote), remotePort: key.remotePort)
    }
}

extension FlowEvent.Counters {
    init(_ counters: FlowCounters) {
        self.init(packets: counters.packets, bytes: counters.bytes,
                  tcpFlagsSeen: .init(rawValue: UInt8(truncatingIfNeeded: counters.tcpFlags.rawValue)))
    }
}

extension FlowEvent {
    /// The event's timestamp must be on the clock the detectors' `now` uses.
    public init(_ event: PodwallCore.FlowEvent) {
        let direction: Direction = event.direction == .fromPod ? .podToRemote : .remoteToPod
        let kind: Kind
        switch event.kind {
        case .new: kind = .new
        // The first answer: for the detectors a (payload-less) sign of life from the remote side.
        case .reply: kind = .payload(.remoteToPod)
        case .payload: kind = .payload(direction)
        case .end(let reason): kind = .end(reason: reason == .rst ? .rst : reason == .fin ? .fin : .idle)
        }
        let payload = event.kind == .payload ? event.flow.counters(event.direction).payload : []
        self.init(
            kind: kind, key: FlowKey(event.flow.key), timestampNs: event.timestamp,
            initiator: event.flow.podInitiated ? .pod : .remote,
            podToRemote: Counters(event.flow.fromPod), remoteToPod: Counters(event.flow.toPod),
            payload: PayloadPrefix(payload))
    }
}

extension Aggregator {
    /// A flow event from the kernel or a replay. An end comes after a last
    /// volume sample of the flow, so that no byte is lost and the detector
    /// may forget the flow; closed flows are then no longer sampled.
    public mutating func observe(_ event: PodwallCore.FlowEvent, now: UInt64, observedSince: UInt64 = 0) -> [Alert] {
        var alerts: [Alert] = []
        if case .end = event.kind, event.flow.podInitiated {
            let sample = FlowSample(event.flow, at: event.timestamp, observedSince: observedSince)
            alerts += observe(sample, now: now)
        }
        return alerts + observe(FlowEvent(event), now: now)
    }

    /// Volume samples of the flows still open that the pod opened; flows
    /// first seen (kernel clock) before `observedSince` predate observation.
    public mutating func sample(_ flows: [FlowRecord], at time: UInt64, now: UInt64, observedSince: UInt64 = 0) -> [Alert] {
        flows.filter { $0.podInitiated && !$0.closed }.flatMap {
            observe(FlowSample($0, at: time, observedSince: observedSince), now: now)
        }
    }
}

extension FlowSample {
    /// A flow first seen (kernel clock) before `observedSince` predates observation.
    public init(_ flow: FlowRecord, at time: UInt64, observedSince: UInt64 = 0) {
        self.init(key: FlowKey(flow.key), timestampNs: time, bytesPodToRemote: flow.fromPod.bytes,
                  predatesObservation: flow.firstSeen < observedSince)
    }
}
