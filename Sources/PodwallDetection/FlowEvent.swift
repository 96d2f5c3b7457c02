/// What the kernel reports about a flow, mapped from its ring-buffer records.
///
/// Supporting types are nested so the detection inputs add only two top-level names
/// (`FlowKey`, `FlowEvent`) to the module.
public struct FlowEvent: Sendable, Equatable {
    public enum Direction: String, Sendable, Codable {
        /// Egress from the pod.
        case podToRemote = "pod_to_remote"
        case remoteToPod = "remote_to_pod"
    }

    public enum Initiator: String, Sendable, Codable {
        /// The pod opened the flow.
        case pod
        case remote
    }

    public enum EndReason: String, Sendable, Codable {
        case fin, rst, idle
    }

    public enum ICMPError: Sendable, Equatable {
        /// Destination/port unreachable (type 3 / ICMPv6 type 1) with its code.
        case unreachable(code: UInt8)
    }

    public enum Kind: Sendable, Equatable {
        case new
        /// The first payload of `direction`; `FlowEvent.payload` holds its first bytes.
        case payload(Direction)
        case end(reason: EndReason)
        /// An ICMP error quoting this flow's packet.
        case icmpError(ICMPError)
    }

    /// TCP flags as a bitmask, as the kernel ORs them per direction.
    public struct TCPFlags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let fin = TCPFlags(rawValue: 1)
        public static let syn = TCPFlags(rawValue: 2)
        public static let rst = TCPFlags(rawValue: 4)
        public static let psh = TCPFlags(rawValue: 8)
        public static let ack = TCPFlags(rawValue: 16)
        public static let urg = TCPFlags(rawValue: 32)
    }

    /// Per-direction counters since the flow started.
    public struct Counters: Sendable, Equatable {
        public var packets: UInt64
        public var bytes: UInt64
        public var tcpFlagsSeen: TCPFlags

        public init(packets: UInt64 = 0, bytes: UInt64 = 0, tcpFlagsSeen: TCPFlags = []) {
            self.packets = packets
            self.bytes = bytes
            self.tcpFlagsSeen = tcpFlagsSeen
        }
    }

    public var kind: Kind
    public var key: FlowKey
    /// Kernel clock, nanoseconds: when the deciding packet was seen.
    public var timestampNs: UInt64
    public var initiator: Initiator
    public var podToRemote: Counters
    public var remoteToPod: Counters
    /// For `.payload` events: the first (up to 32) payload bytes of that direction.
    public var payload: PayloadPrefix

    public init(
        kind: Kind,
        key: FlowKey,
        timestampNs: UInt64,
        initiator: Initiator = .pod,
        podToRemote: Counters = Counters(),
        remoteToPod: Counters = Counters(),
        payload: PayloadPrefix = PayloadPrefix()
    ) {
        self.kind = kind
        self.key = key
        self.timestampNs = timestampNs
        self.initiator = initiator
        self.podToRemote = podToRemote
        self.remoteToPod = remoteToPod
        self.payload = payload
    }

    public func counters(_ direction: Direction) -> Counters {
        direction == .podToRemote ? podToRemote : remoteToPod
    }
}

/// Periodic per-flow egress counter, for volume accounting.
public struct FlowSample: Sendable, Equatable {
    public var key: FlowKey
    /// Kernel clock, nanoseconds.
    public var timestampNs: UInt64
    /// Cumulative bytes pod -> remote since the flow (or its kernel counter) started.
    public var bytesPodToRemote: UInt64
    /// The flow was already running when observation began (a restarted
    /// agent adopting the kernel's flow table): its first sample is only a
    /// starting point, since the bytes before it were sent at unknown times.
    public var predatesObservation: Bool

    public init(key: FlowKey, timestampNs: UInt64, bytesPodToRemote: UInt64, predatesObservation: Bool = false) {
        self.key = key
        self.timestampNs = timestampNs
        self.bytesPodToRemote = bytesPodToRemote
        self.predatesObservation = predatesObservation
    }
}
