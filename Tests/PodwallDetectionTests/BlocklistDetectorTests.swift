import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Blocklist hits")
struct BlocklistDetectorTests {
    @Test("a cgroup connect denial becomes an alert with the process")
    func dropWithProcess() {
        let key = flow(pod: "10.1.0.9", to: "203.0.113.66", port: 4444)
        let process = AlertProcess(pid: 4242, tgid: 4240, uid: 1000, comm: "curl", cgroupId: 9876)
        let drop = DropEvent(key: key, timestampNs: Clock.t0, matchedPrefix: "203.0.113.0/24", reason: .blocklist, process: process)
        let alerts = BlocklistDetector().observe(drop, now: Clock.t0 + 5 * Clock.ms)
        let alert = try! #require(alerts.first)
        #expect(alert.kind == .blocklistHit)
        #expect(alert.severity == .high)
        #expect(alert.source.process == process)
        #expect(alert.source.cgroupId == 9876)
        #expect(alert.blocklist?.matchedPrefix == "203.0.113.0/24")
        #expect(alert.blocklist?.remote == ip("203.0.113.66"))
        #expect(alert.blocklist?.remotePort == 4444)
        #expect(alert.detectionLatencyMs == 5)
    }

    @Test("a quarantined pod knocking is a quarantine drop, at lower severity")
    func quarantine() throws {
        let drop = DropEvent(key: flow(to: "10.96.0.1", port: 443), timestampNs: Clock.t0, matchedPrefix: "", reason: .quarantine)
        let alert = try #require(BlocklistDetector().observe(drop, now: Clock.t0).first)
        #expect(alert.kind == .quarantineDrop && alert.id.hasPrefix("qd-"))
        #expect(alert.severity == .medium)
        #expect(alert.quarantineDrop?.remote == ip("10.96.0.1") && alert.quarantineDrop?.reason == .quarantine)
        #expect(alert.blocklist == nil, "not a blocklist hit")
    }
}
