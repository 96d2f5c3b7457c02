import PodwallCapture
import PodwallCore
import PodwallDetection

/// How the agent captures for an alert's `capture` response.
public struct AlertCaptureSettings: Sendable, Equatable {
    public var snaplen: UInt32 = CaptureRequest.defaultSnaplen
    /// Packet budget per alert capture (enforced in the kernel).
    public var maxPackets: UInt64 = 10_000
    public var durationSeconds: Double = 60

    public init() {}
}

/// What to capture for an alert: the alert's flow, or for a scan every packet
/// of the scanning pod; for a protocol alert, also the packet that triggered
/// it, rebuilt from the flow and the payload the detector saw (the kernel
/// had already passed it on when the alert fired).
enum AlertCapture {
    static func request(for alert: Alert, interface: String?, settings: AlertCaptureSettings) -> CaptureRequest {
        let filter: CaptureFilter
        if alert.kind != .portScan, let flow = alert.flows.first {
            filter = CaptureFilter(flow: flow, interfaceName: interface)
        } else {
            filter = CaptureFilter(
                ifindex: alert.source.ifindex, interfaceName: interface,
                pod: IPPrefix(host: alert.source.address))
        }
        return CaptureRequest(
            id: alert.id, alertID: alert.id, filter: filter, snaplen: settings.snaplen,
            maxPackets: settings.maxPackets, durationSeconds: settings.durationSeconds)
    }

    static func triggeringPacket(for alert: Alert) -> PreludePacket? {
        guard case .protocolMismatch(let evidence) = alert.evidence, let flow = alert.flows.first,
            let payload = bytes(hex: evidence.hexPreview), !payload.isEmpty
        else { return nil }
        let frame = PacketBuilder(flow: flow, fromPod: evidence.direction == .fromPod, payload: payload).build()
        return PreludePacket(data: frame, unixNanoseconds: Int64(alert.timeNs))
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).compactMap { index in
            UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)
        }
    }
}
