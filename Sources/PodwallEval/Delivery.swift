import PodwallCore

/// Packets that got through after the response: measured at the receiving
/// side, independently of podwall. A tap in the target's namespace records
/// the attacker's packets that actually arrived there (stamped by the
/// receiving kernel, CLOCK_REALTIME); these functions turn the capture and
/// the alert into the number of packets that arrived once the response was
/// in force. Pure: no clock, no files, no root.
public enum Delivery {
    /// What the expected alert's response does to the attacker's traffic.
    public enum Response: String, Sendable, Codable {
        /// The attacker pod is quarantined: its new flows are dropped, flows
        /// it had already opened may finish (bpf/lib/flow.h, pw_flow_account).
        case quarantine
        /// The destination is blocked: every packet to it is dropped.
        case block
        /// The destination was blocklisted before the scenario played: no
        /// packet to it may arrive at all.
        case blockedFromStart = "blocked_from_start"
    }

    /// A transport flow as the receiver sees it (the tap keeps only packets from the attacker).
    public struct Flow: Hashable, Sendable {
        public var source: IPAddress
        public var destination: IPAddress
        public var proto: UInt8
        public var sourcePort: UInt16
        public var destinationPort: UInt16
        /// Set only for a later IPv4 fragment whose first fragment never
        /// arrived: its datagram is then a flow of its own.
        public var orphanFragment: UInt16?

        public init(
            source: IPAddress, destination: IPAddress, proto: UInt8, sourcePort: UInt16, destinationPort: UInt16,
            orphanFragment: UInt16? = nil
        ) {
            self.source = source
            self.destination = destination
            self.proto = proto
            self.sourcePort = sourcePort
            self.destinationPort = destinationPort
            self.orphanFragment = orphanFragment
        }
    }

    /// One packet that arrived, as the receiver's tap stamped it.
    public struct Arrival: Sendable, Equatable {
        /// Unix time in nanoseconds (the tap's CLOCK_REALTIME stamp).
        public var timeNs: Int64
        public var flow: Flow

        public init(timeNs: Int64, flow: Flow) {
            self.timeNs = timeNs
            self.flow = flow
        }
    }

    /// What one repetition amounts to.
    public struct Outcome: Sendable, Equatable {
        /// Packets from the attacker that arrived at the target, in all.
        public var received: Int
        /// Of those, the ones that arrived after the response was in force
        /// (for a quarantine: of flows that started after it, too).
        public var afterResponse: Int
        /// Arrival of the attacker's last packet minus the moment the response
        /// was in force, ms (negative: before); nil without packets or for a
        /// destination blocked from the start.
        public var lastArrivalMs: Double?

        public init(received: Int, afterResponse: Int, lastArrivalMs: Double?) {
            self.received = received
            self.afterResponse = afterResponse
            self.lastArrivalMs = lastArrivalMs
        }
    }

    /// When the line's response was in force, in Unix nanoseconds: the
    /// decision of its newest occurrence (`time_ns` of a fresh alert, the
    /// agent's CLOCK_MONOTONIC shifted by its CLOCK_REALTIME offset;
    /// `last_seen_ns` of an update that re-applied a released response) plus
    /// `response_latency_ms`. Without a response latency (nothing was
    /// enforced, or an update that enforced nothing new) the decision time itself,
    /// which counts more packets, not fewer. `enforced` says which.
    public static func inForce(_ line: AlertLine) -> (ns: Int64, enforced: Bool) {
        guard let latency = line.responseLatencyMs else { return (line.occurrenceNs, false) }
        return (line.occurrenceNs + Int64((latency * 1_000_000).rounded()), true)
    }

    /// JSON numbers come back as NSNumber-bridged Int, Int64 or UInt64 (or Double).
    static func integer(_ value: Any?) -> Int64? {
        switch value {
        case let value as Int: Int64(value)
        case let value as Int64: value
        case let value as UInt64: Int64(exactly: value)
        case let value as Double: Int64(exactly: value.rounded())
        default: nil
        }
    }

    /// The packets of `arrivals` that got through the response.
    ///
    /// - `inForceNs`: when the response was in force (ignored for `.blockedFromStart`).
    /// - `clockUncertaintyNs`: how far the alert's time scale and the tap's
    ///   may disagree; the boundary moves that much earlier, so a packet that
    ///   may have arrived after the response counts.
    ///
    /// A block counts every packet at or after the boundary; a quarantine only
    /// those of flows whose first packet arrived at or after it (flows opened
    /// before may finish by design); a destination blocked from the start
    /// counts every packet.
    public static func outcome(_ arrivals: [Arrival], response: Response, inForceNs: Int64, clockUncertaintyNs: Int64 = 0) -> Outcome {
        let boundary = inForceNs - max(0, clockUncertaintyNs)
        let last = arrivals.map(\.timeNs).max()
        switch response {
        case .blockedFromStart:
            return Outcome(received: arrivals.count, afterResponse: arrivals.count, lastArrivalMs: nil)
        case .block:
            let after = arrivals.count(where: { $0.timeNs >= boundary })
            return Outcome(received: arrivals.count, afterResponse: after, lastArrivalMs: last.map { Double($0 - inForceNs) / 1e6 })
        case .quarantine:
            var firstSeen: [Flow: Int64] = [:]
            for arrival in arrivals { firstSeen[arrival.flow] = min(firstSeen[arrival.flow] ?? .max, arrival.timeNs) }
            let after = arrivals.count(where: { $0.timeNs >= boundary && firstSeen[$0.flow]! >= boundary })
            return Outcome(received: arrivals.count, afterResponse: after, lastArrivalMs: last.map { Double($0 - inForceNs) / 1e6 })
        }
    }

    /// A captured frame, decoded as the data path would (PodwallCore's decoder).
    public struct Frame: Sendable {
        public var timeNs: Int64
        public var flow: Flow
        /// IPv4 identification and whether this is a later fragment (no ports).
        public var fragment: (id: UInt16, later: Bool)?
    }

    /// Decodes one captured frame; nil when it is not IP.
    public static func frame(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, wireLength: Int, timeNs: Int64) -> Frame? {
        guard let packet = PacketDecoder.decode(bytes, linkType: linkType, wireLength: wireLength) else { return nil }
        let flow = Flow(
            source: packet.source, destination: packet.destination, proto: packet.proto.rawValue,
            sourcePort: packet.sourcePort, destinationPort: packet.destinationPort)
        return Frame(timeNs: timeNs, flow: flow, fragment: packet.ipv4Fragment)
    }

    /// How long after its first fragment a later one is still taken as part
    /// of the same datagram. A sender emits them back to back; a bound keeps
    /// a 16-bit identification reused by a later datagram (whose first
    /// fragment may have been dropped) from joining an old flow, which would
    /// count fewer packets rather than more.
    public static let fragmentWindowNs: Int64 = 100_000_000

    /// Gives a later fragment the flow (ports) of its first fragment, as the
    /// data path does; one whose first fragment did not arrive (within
    /// `fragmentWindowNs` before it) becomes a flow of its own datagram.
    /// Frames in capture order.
    public static func arrivals(_ frames: [Frame]) -> [Arrival] {
        struct Datagram: Hashable { var source: IPAddress, destination: IPAddress, proto: UInt8, id: UInt16 }
        var firsts: [Datagram: (flow: Flow, timeNs: Int64)] = [:]
        return frames.map { frame in
            guard let fragment = frame.fragment else { return Arrival(timeNs: frame.timeNs, flow: frame.flow) }
            let datagram = Datagram(
                source: frame.flow.source, destination: frame.flow.destination, proto: frame.flow.proto, id: fragment.id)
            if !fragment.later {
                firsts[datagram] = (frame.flow, frame.timeNs)
                return Arrival(timeNs: frame.timeNs, flow: frame.flow)
            }
            if let first = firsts[datagram], frame.timeNs - first.timeNs <= fragmentWindowNs {
                return Arrival(timeNs: frame.timeNs, flow: first.flow)
            }
            var orphan = frame.flow
            (orphan.sourcePort, orphan.destinationPort, orphan.orphanFragment) = (0, 0, fragment.id)
            return Arrival(timeNs: frame.timeNs, flow: orphan)
        }
    }
}
