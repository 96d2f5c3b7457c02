@testable import PodwallDetection

/// Builders for synthetic flows, so each test reads as the traffic it describes.
enum Clock {
    static let ms: UInt64 = 1_000_000
    static let s: UInt64 = 1_000_000_000
    /// An arbitrary kernel-clock origin.
    static let t0: UInt64 = 1_700_000_000 * s
}

func ip(_ text: String) -> IPAddr {
    guard let address = IPAddr(text) else { fatalError("bad address in test: \(text)") }
    return address
}

func flow(
    _ proto: UInt8 = IPProto.tcp, pod: String = "10.1.0.5", localPort: UInt16 = 40_000,
    to remote: String, port: UInt16, ifindex: UInt32 = 7
) -> FlowKey {
    FlowKey(ifindex: ifindex, proto: proto, local: ip(pod), localPort: localPort, remote: ip(remote), remotePort: port)
}

typealias Flags = FlowEvent.TCPFlags

/// The pod's first packet of a flow (a SYN unless other flags are given; UDP ignores flags).
func opened(_ key: FlowKey, at timestampNs: UInt64, flags: Flags = .syn) -> FlowEvent {
    FlowEvent(kind: .new, key: key, timestampNs: timestampNs,
              podToRemote: .init(packets: 1, bytes: 60, tcpFlagsSeen: key.proto == IPProto.tcp ? flags : []))
}

/// The remote reset the flow without accepting it (closed port).
func refused(_ key: FlowKey, at timestampNs: UInt64, flags: Flags = .syn) -> FlowEvent {
    FlowEvent(kind: .end(reason: .rst), key: key, timestampNs: timestampNs,
              podToRemote: .init(packets: 1, bytes: 60, tcpFlagsSeen: flags),
              remoteToPod: .init(packets: 1, bytes: 40, tcpFlagsSeen: [.rst, .ack]))
}

/// The remote answered (SYN-ACK for TCP, any packet for UDP): seen on the response payload.
func answered(_ key: FlowKey, at timestampNs: UInt64, payload: PayloadPrefix = "ok") -> FlowEvent {
    FlowEvent(kind: .payload(.remoteToPod), key: key, timestampNs: timestampNs,
              podToRemote: .init(packets: 2, bytes: 120, tcpFlagsSeen: [.syn, .ack]),
              remoteToPod: .init(packets: 2, bytes: 120, tcpFlagsSeen: [.syn, .ack]), payload: payload)
}

func unreachable(_ key: FlowKey, at timestampNs: UInt64) -> FlowEvent {
    FlowEvent(kind: .icmpError(.unreachable(code: 3)), key: key, timestampNs: timestampNs,
              podToRemote: .init(packets: 1, bytes: 60))
}

func payload(_ key: FlowKey, _ direction: FlowEvent.Direction, _ bytes: PayloadPrefix, at timestampNs: UInt64) -> FlowEvent {
    FlowEvent(kind: .payload(direction), key: key, timestampNs: timestampNs,
              podToRemote: .init(packets: 3, bytes: 200, tcpFlagsSeen: [.syn, .ack, .psh]),
              remoteToPod: .init(packets: 2, bytes: 120, tcpFlagsSeen: [.syn, .ack]), payload: bytes)
}

func ended(_ key: FlowKey, at timestampNs: UInt64) -> FlowEvent {
    FlowEvent(kind: .end(reason: .fin), key: key, timestampNs: timestampNs,
              podToRemote: .init(packets: 4, bytes: 300, tcpFlagsSeen: [.syn, .ack, .fin]),
              remoteToPod: .init(packets: 4, bytes: 300, tcpFlagsSeen: [.syn, .ack, .fin]))
}

extension Alert {
    var scan: ScanEvidence? { if case .portScan(let evidence) = evidence { evidence } else { nil } }
    var exfil: ExfiltrationEvidence? { if case .exfiltration(let evidence) = evidence { evidence } else { nil } }
    var mismatch: ProtocolMismatchEvidence? { if case .protocolMismatch(let evidence) = evidence { evidence } else { nil } }
    var blocklist: BlocklistEvidence? { if case .blocklistHit(let evidence) = evidence { evidence } else { nil } }
    var quarantineDrop: BlocklistEvidence? { if case .quarantineDrop(let evidence) = evidence { evidence } else { nil } }
}

/// A small deterministic generator (64-bit LCG) for noisy-but-repeatable series.
struct LCG {
    var state: UInt64
    mutating func unit() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }
}
