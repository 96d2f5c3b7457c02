/// Encoded as its number, as alerts write it.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let icmpv6 = IPProtocol(rawValue: 58)

    public var description: String {
        switch self {
        case .icmp: "icmp"
        case .tcp: "tcp"
        case .udp: "udp"
        case .icmpv6: "icmpv6"
        default: "proto-\(rawValue)"
        }
    }

    /// The protocol its `description` names.
    public init?(name: String) {
        let named: [IPProtocol] = [.icmp, .tcp, .udp, .icmpv6]
        if let known = named.first(where: { $0.description == name }) {
            self = known
        } else if name.hasPrefix("proto-"), let number = UInt8(name.dropFirst("proto-".count)) {
            self.init(rawValue: number)
        } else {
            return nil
        }
    }
}

/// Which way a packet went, seen from the pod.
public enum FlowDirection: Int, Sendable, CaseIterable {
    case fromPod = 0
    case toPod = 1

    public var label: String { self == .fromPod ? "from_pod" : "to_pod" }
}

// Alerts (docs/api/openapi.yaml) name a direction by its two ends.
extension FlowDirection: Codable {
    private static let alertNames = ["pod_to_remote", "remote_to_pod"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let index = Self.alertNames.firstIndex(of: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a flow direction: \(name)")
        }
        self = Self(rawValue: index)!
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.alertNames[rawValue])
    }
}

public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)

    /// tcpdump's letters: S F R P . U
    public var description: String {
        let letters: [(TCPFlags, Character)] = [(.syn, "S"), (.fin, "F"), (.rst, "R"), (.psh, "P"), (.ack, "."), (.urg, "U")]
        return String(letters.filter { contains($0.0) }.map(\.1))
    }
}

public struct FlowCounters: Hashable, Sendable {
    public var packets: UInt64
    public var bytes: UInt64
    public var tcpFlags: TCPFlags
    /// The first payload bytes of this direction (up to 32).
    public var payload: PayloadPrefix

    public init(packets: UInt64 = 0, bytes: UInt64 = 0, tcpFlags: TCPFlags = [], payload: PayloadPrefix = PayloadPrefix()) {
        self.packets = packets
        self.bytes = bytes
        self.tcpFlags = tcpFlags
        self.payload = payload
    }
}

public struct FlowRecord: Hashable, Sendable {
    public var key: FlowKey
    /// Kernel monotonic nanoseconds.
    public var firstSeen: UInt64
    public var lastSeen: UInt64
    public var podInitiated: Bool
    public var fromPod: FlowCounters
    public var toPod: FlowCounters
    /// A FIN or RST was seen: the flow's end was reported.
    public var closed: Bool

    public init(
        key: FlowKey, firstSeen: UInt64, lastSeen: UInt64, podInitiated: Bool, fromPod: FlowCounters, toPod: FlowCounters,
        closed: Bool = false
    ) {
        self.key = key
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.podInitiated = podInitiated
        self.fromPod = fromPod
        self.toPod = toPod
        self.closed = closed
    }

    public func counters(_ direction: FlowDirection) -> FlowCounters {
        direction == .fromPod ? fromPod : toPod
    }
}

public enum FlowEndReason: String, Sendable {
    case fin, rst, idle
}

public enum FlowEventKind: Hashable, Sendable, CustomStringConvertible {
    case new
    /// The first answer to whoever opened the flow (never a bare RST).
    case reply
    case payload
    /// The pod sent another MiB (`PW_VOLUME_STEP_SHIFT`) on a flow it opened:
    /// its volume, for exfiltration, as it goes.
    case volume
    case end(FlowEndReason)

    public var description: String {
        switch self {
        case .new: "new"
        case .reply: "reply"
        case .payload: "payload"
        case .volume: "volume"
        case .end(let reason): "end (\(reason.rawValue))"
        }
    }
}

/// What the kernel (or the idle sweeper) reports about a flow.
public struct FlowEvent: Sendable {
    public var kind: FlowEventKind
    /// When the deciding packet was seen, kernel monotonic nanoseconds.
    public var timestamp: UInt64
    public var direction: FlowDirection
    public var flow: FlowRecord

    public init(kind: FlowEventKind, timestamp: UInt64, direction: FlowDirection, flow: FlowRecord) {
        self.kind = kind
        self.timestamp = timestamp
        self.direction = direction
        self.flow = flow
    }

    @inlinable public var key: FlowKey { flow.key }

    /// For `.payload` events, the first bytes of `direction`; empty for the others
    /// (a `.reply` is a sign of life, not a payload, whatever the counters hold).
    public var payload: PayloadPrefix {
        kind == .payload ? flow.counters(direction).payload : PayloadPrefix()
    }
}
