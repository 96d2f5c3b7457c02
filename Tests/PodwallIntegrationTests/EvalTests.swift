import Foundation
import PodwallLab
import PodwallTestSupport
import Testing

/// `podwall eval` end to end, on a few scenarios (the full matrix takes minutes).
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct EvalTests {
    @Test(.enabled(if: Shell.isInstalled("nc") && Shell.isInstalled("curl"), "needs nc and curl"))
    func anAttackIsDetectedAndBenignTrafficRaisesNothing() throws {
        let json = "/tmp/podwall-eval-test-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try Shell.run([PodwallBinary.path, "eval", "--repetitions", "2", "--only", "SSH banner", "--only", "HTTP/1.1",
                                 "--json", json], check: false)
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        let ssh = try #require(scenarios.first { ($0["scenario"] as? String)?.hasPrefix("SSH") == true })
        #expect(ssh["runs"] as? Int == 2 && ssh["detected"] as? Int == 2, "\(ssh)")
        #expect((ssh["detection_ms"] as? [Double] ?? []).allSatisfy { $0 < 1000 })
        let http = try #require(scenarios.first { ($0["scenario"] as? String)?.hasPrefix("HTTP/1.1") == true })
        #expect(http["false_alerts"] as? Int == 0, "\(http)")
        #expect(document["precision"] as? Double == 1.0)
        #expect(run.output.contains("| SSH banner to port 80 | protocol_mismatch | 2 | 2 | 1.00 | 0 |"), "\(run.output)")
        let labID = try #require(run.output.split(separator: " ").first { $0.hasPrefix("pwlab-") }.map { String($0.dropLast()) })
        #expect(!(try Shell.run(["ip", "netns", "list"]).output.contains(labID + "-")), "the lab's namespaces are gone")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/bpf/\(labID)"), "and its pins")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/\(labID)") && !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(labID)"),
                "and its cgroup")
    }
}
