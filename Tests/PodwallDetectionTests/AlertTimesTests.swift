import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Alert times")
struct AlertTimesTests {
    @Test("every absolute time moves to the other clock; the id and durations stay")
    func mapTimes() {
        let key = flow(to: "203.0.113.9", port: 80)
        let evidence = ScanEvidence(
            trigger: .trw, scanType: .vertical, protocolName: "tcp", probedHosts: 1, probedPorts: 4, failures: 4, successes: 0,
            unanswered: 0, failureRatio: 1, firstProbeNs: Clock.t0, lastProbeNs: Clock.t0 + Clock.s, trwScore: 5, tcpProbeStyles: ["syn"])
        var alert = Alert(
            kind: .portScan, severity: .high, source: AlertSource(key.source), flows: [key], evidence: .portScan(evidence),
            decidingNs: Clock.t0 + Clock.s, now: Clock.t0 + 2 * Clock.s)
        let id = alert.id
        alert.mapTimes { $0 + 1_000 * Clock.s }
        #expect(
            alert.timeNs == Clock.t0 + 1_002 * Clock.s
                && alert.time == Timestamp.rfc3339(nanoseconds: Int64(alert.timeNs), fractionDigits: 9))
        #expect(alert.windowStartNs == alert.timeNs && alert.lastSeenNs == alert.timeNs)
        #expect(alert.scan?.firstProbeNs == Clock.t0 + 1_000 * Clock.s && alert.scan?.lastProbeNs == Clock.t0 + 1_001 * Clock.s)
        #expect(alert.id == id && alert.detectionLatencyMs == 1_000)
    }
}
