import PodwallCore
@testable import PodwallDetection

/// Builders for synthetic flows, so each test reads as the traffic it describes.
enum Clock {
    static let ms: UInt64 = 1_000_000
    static let s: UInt64 = 1_000_000_000
    /// An arbitrary kernel-clock origin.
    static let t0: UInt64 = 1_700_000_000 * s
}

func ip(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { fatalError("bad address in test: \(text)") }
    return address
}

func flow(
    _ proto: IPProtocol = .tcp, pod: String = "10.1.0.5", podPort: UInt16 = 40_000,
    to remote: String, port: UInt16, ifindex: UInt32 = 7
) -> FlowKey {
    FlowKey(ifindex: ifindex, proto: proto, pod: ip(pod), podPort: podPort, remote: ip(remote), remotePort: port)
}

typealias Flags = TCPFlags

/// An event of a flow the pod opened, as the kernel reports it.
func event(
    _ kind: FlowEventKind, _ key: FlowKey, at timestampNs: UInt64, direction: FlowDirection = .fromPod,
    fromPod: FlowCounters, toPod: FlowCounters = FlowCounters()
) -> FlowEvent {
    FlowEvent(
        kind: kind, timestamp: timestampNs, direction: direction,
        flow: FlowRecord(
            key: key, firstSeen: timestampNs, lastSeen: timestampNs, podInitiated: true, fromPod: fromPod, toPod: toPod))
}

/// The pod's first packet of a flow (a SYN unless other flags are given; UDP ignores flags).
func opened(_ key: FlowKey, at timestampNs: UInt64, flags: Flags = .syn) -> FlowEvent {
    event(.new, key, at: timestampNs, fromPod: FlowCounters(packets: 1, bytes: 60, tcpFlags: key.proto == .tcp ? flags : []))
}

/// The remote reset the flow without accepting it (closed port).
func refused(_ key: FlowKey, at timestampNs: UInt64, flags: Flags = .syn) -> FlowEvent {
    event(
        .end(.rst), key, at: timestampNs, direction: .toPod,
        fromPod: FlowCounters(packets: 1, bytes: 60, tcpFlags: flags),
        toPod: FlowCounters(packets: 1, bytes: 40, tcpFlags: [.rst, .ack]))
}

/// The remote answered (SYN-ACK for TCP, any packet for UDP): seen on the response payload.
func answered(_ key: FlowKey, at timestampNs: UInt64, payload: PayloadPrefix = "ok") -> FlowEvent {
    event(
        .payload, key, at: timestampNs, direction: .toPod,
        fromPod: FlowCounters(packets: 2, bytes: 120, tcpFlags: [.syn, .ack]),
        toPod: FlowCounters(packets: 2, bytes: 120, tcpFlags: [.syn, .ack], payload: payload))
}

/// The first payload of `direction`.
func payload(_ key: FlowKey, _ direction: FlowDirection, _ bytes: PayloadPrefix, at timestampNs: UInt64) -> FlowEvent {
    event(
        .payload, key, at: timestampNs, direction: direction,
        fromPod: FlowCounters(packets: 3, bytes: 200, tcpFlags: [.syn, .ack, .psh], payload: direction == .fromPod ? bytes : []),
        toPod: FlowCounters(packets: 2, bytes: 120, tcpFlags: [.syn, .ack], payload: direction == .toPod ? bytes : []))
}

func ended(_ key: FlowKey, at timestampNs: UInt64) -> FlowEvent {
    event(
        .end(.fin), key, at: timestampNs,
        fromPod: FlowCounters(packets: 4, bytes: 300, tcpFlags: [.syn, .ack, .fin]),
        toPod: FlowCounters(packets: 4, bytes: 300, tcpFlags: [.syn, .ack, .fin]))
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
