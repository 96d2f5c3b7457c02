/// The kernel's flow accounting, in Swift, for captures: one flow per
/// (initiator side, other side, protocol), counters per direction, the first
/// payload of each direction (for TCP the segment at ISN + 1, as
/// `pw_flow_snapshot_payload` takes it), and the same new / reply / payload / end
/// events, each at most once per flow. The side that sent a flow's first
/// packet plays the pod.
public struct OfflineFlowTracker: Sendable {
    struct Tracked: Sendable {
        var record: FlowRecord
        var replied = false
        var ended = false
        var payloadSeen: [Bool] = [false, false]
        /// TCP: where each direction's first payload starts (its SYN's sequence + 1).
        var payloadSequence: [UInt32?] = [nil, nil]
    }

    private var flows: [FlowKey: Tracked] = [:]

    public init() {}

    public var records: [FlowRecord] { flows.values.map(\.record) }

    public mutating func observe(_ packet: DecodedPacket, timestamp: UInt64) -> [FlowEvent] {
        let forward = FlowKey(
            ifindex: 0, proto: packet.proto, pod: packet.source, podPort: packet.sourcePort,
            remote: packet.destination, remotePort: packet.destinationPort)
        let reverse = FlowKey(
            ifindex: 0, proto: packet.proto, pod: packet.destination, podPort: packet.destinationPort,
            remote: packet.source, remotePort: packet.sourcePort)
        var events: [FlowEventKind] = []
        let key: FlowKey
        let direction: FlowDirection
        // As the kernel does: a SYN on a flow that has ended opens a new one.
        let reopening = packet.proto == .tcp && packet.tcpFlags.intersection([.syn, .ack]) == .syn
        if reopening, let ended = [forward, reverse].first(where: { flows[$0]?.ended == true }) {
            flows.removeValue(forKey: ended)
        }
        if flows[forward] != nil {
            (key, direction) = (forward, .fromPod)
        } else if flows[reverse] != nil {
            (key, direction) = (reverse, .toPod)
        } else {
            (key, direction) = (forward, .fromPod)
            flows[key] = Tracked(
                record: FlowRecord(
                    key: key, firstSeen: timestamp, lastSeen: timestamp, podInitiated: true,
                    fromPod: FlowCounters(), toPod: FlowCounters()))
            events.append(.new)
        }
        var tracked = flows[key]!
        var counters = tracked.record.counters(direction)
        counters.packets += 1
        counters.bytes += UInt64(packet.wireLength)
        counters.tcpFlags.formUnion(packet.tcpFlags)
        if packet.proto == .tcp, packet.tcpFlags.contains(.syn) {
            tracked.payloadSequence[direction.rawValue] = packet.tcpSequence &+ 1
        }
        let snapshot =
            !packet.payload.isEmpty && !tracked.payloadSeen[direction.rawValue]
            && (packet.proto != .tcp || startsTheStream(packet, tracked.payloadSequence[direction.rawValue]))
        if snapshot {
            counters.payload = PayloadPrefix(packet.payload)
            tracked.payloadSeen[direction.rawValue] = true
        }
        if direction == .fromPod { tracked.record.fromPod = counters } else { tracked.record.toPod = counters }
        tracked.record.lastSeen = timestamp
        if snapshot { events.append(.payload) }
        let bareReset = packet.tcpFlags.contains(.rst) && !packet.tcpFlags.contains(.syn)
        if direction == .toPod && !tracked.replied && !bareReset {
            tracked.replied = true
            events.append(.reply)
        }
        if packet.proto == .tcp, !tracked.ended, !packet.tcpFlags.isDisjoint(with: [.fin, .rst]) {
            tracked.ended = true
            tracked.record.closed = true
            events.append(.end(packet.tcpFlags.contains(.rst) ? .rst : .fin))
        }
        flows[key] = tracked
        return events.map { FlowEvent(kind: $0, timestamp: timestamp, direction: direction, flow: tracked.record) }
    }

    /// Whether a TCP segment's data starts at ISN + 1 (a SYN's own data too).
    private func startsTheStream(_ packet: DecodedPacket, _ expected: UInt32?) -> Bool {
        guard let expected else { return false }
        return packet.tcpSequence &+ (packet.tcpFlags.contains(.syn) ? 1 : 0) == expected
    }
}
