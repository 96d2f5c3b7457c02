@testable import PodwallAgent
import PodwallCapture
import PodwallCore
@testable import PodwallDetection
import Testing

@Suite struct AlertCaptureTests {
    static let flow = FlowKey(
        ifindex: 7, proto: .tcp, pod: IPAddress("198.18.0.11")!, podPort: 40000,
        remote: IPAddress("198.19.0.2")!, remotePort: 80)

    static func alert(_ kind: AlertKind, evidence: Evidence) -> Alert {
        Alert(
            kind: kind, severity: .high, source: AlertSource(address: IPAddress("198.18.0.11")!, ifindex: 7),
            flows: [flow], evidence: evidence, decidingNs: 1_800_000_000_000_000_000, now: 1_800_000_000_001_000_000)
    }

    static let mismatch = Evidence.protocolMismatch(
        ProtocolMismatchEvidence(
            protocolName: "ssh", looksLike: nil, direction: .fromPod, remotePort: 80, byteCount: 8,
            hexPreview: "5353482d322e302d", textPreview: "SSH-2.0-"))

    @Test func aFlowAlertCapturesItsFlowAndRebuildsTheTriggeringPacket() throws {
        let alert = Self.alert(.protocolMismatch, evidence: Self.mismatch)
        let request = AlertCapture.request(for: alert, interface: "veth1", settings: AlertCaptureSettings())
        #expect(request.id == alert.id && request.alertID == alert.id)
        #expect(request.filter.summary == "veth1 tcp pod 198.18.0.11:40000 remote 198.19.0.2:80")
        #expect(request.maxPackets == 10_000 && request.durationSeconds == 60 && request.snaplen == 256)
        let trigger = try #require(AlertCapture.triggeringPacket(for: alert))
        let decoded = try #require(
            trigger.data.withUnsafeBytes {
                PacketDecoder.decode($0, linkType: .ethernet, wireLength: trigger.data.count)
            })
        #expect(decoded.source == IPAddress("198.18.0.11") && decoded.destination == IPAddress("198.19.0.2"))
        #expect(decoded.sourcePort == 40000 && decoded.destinationPort == 80)
        #expect(Array(trigger.data.suffix(8)) == Array("SSH-2.0-".utf8))
    }

    @Test func aScanCapturesEverythingTheScanningPodSends() {
        let request = AlertCapture.request(
            for: Self.alert(.portScan, evidence: Self.mismatch), interface: nil,
            settings: AlertCaptureSettings())
        #expect(request.filter == CaptureFilter(ifindex: 7, pod: IPPrefix(host: IPAddress("198.18.0.11")!)))
    }
}
