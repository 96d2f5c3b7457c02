import Foundation
import PodwallLab
import PodwallTestSupport
import Testing

/// `podwall eval` end to end, on a few scenarios (the full matrix takes minutes).
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct EvalTests {
    /// Two rounds against one agent (the default): the second round's scan
    /// and payload come from the same pod after their responses were undone
    /// through the CLI, and must be caught again.
    @Test(.enabled(if: ["nc", "curl", "tcpdump", "nmap"].allSatisfy(Shell.isInstalled), "needs nc, curl, tcpdump and nmap"))
    func anAttackIsDetectedAndBenignTrafficRaisesNothing() throws {
        let json = "/tmp/podwall-eval-test-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try Shell.run(
            [
                PodwallBinary.path, "eval", "--repetitions", "2", "--only", "nmap SYN scan, vertical", "--only", "SSH banner",
                "--only", "HTTP/1.1", "--only", "blocklisted", "--json", json
            ], check: false)
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        let ssh = try #require(scenarios.first { ($0["scenario"] as? String)?.hasPrefix("SSH") == true })
        #expect(ssh["runs"] as? Int == 2 && ssh["detected"] as? Int == 2, "\(ssh)")
        #expect((ssh["detection_ms"] as? [Double] ?? []).allSatisfy { $0 < 1000 })
        // Counted by tcpdump at the target: the connection's packets arrived
        // before the block, none after it (the FIN nc sends a second later is dropped).
        #expect(ssh["delivered_after_response"] as? [Int] == [0, 0], "\(ssh)")
        #expect((ssh["received_from_attacker"] as? [Int] ?? []).allSatisfy { $0 >= 3 }, "the tap saw the connection: \(ssh)")
        #expect(ssh["tap_drops"] as? Int == 0)
        let blocklisted = try #require(scenarios.first { ($0["scenario"] as? String)?.hasPrefix("connection to a blocklisted") == true })
        #expect(blocklisted["detected"] as? Int == 2 && blocklisted["delivered_after_response"] as? [Int] == [0, 0], "\(blocklisted)")
        let http = try #require(scenarios.first { ($0["scenario"] as? String)?.hasPrefix("HTTP/1.1") == true })
        #expect(http["false_alerts"] as? Int == 0, "\(http)")
        #expect(http["delivered_after_response"] as? [Int] == [] && http["response"] == nil, "nothing to measure without a response")
        #expect(http["exchanges"] as? Int == 300, "150 fetches a run, each answered: \(http)")
        #expect(document["precision"] as? Double == 1.0)
        #expect(document["agent_mode"] as? String == "shared")
        let scan = try #require(scenarios.first { ($0["scenario"] as? String)?.hasPrefix("nmap SYN scan, vertical") == true })
        #expect(scan["detected"] as? Int == 2 && scan["false_alerts"] as? Int == 0, "the pod's second scan too: \(scan)")
        #expect((scan["first_packet_to_decision_ms"] as? [Double] ?? []).allSatisfy { $0 < 1000 }, "\(scan)")
        #expect(
            run.output.contains("undone: quarantine release veth-pod1") && run.output.contains("undone: blocklist del 198.19.0.2"),
            "responses undone through the CLI: \(run.output)")
        let alertsFile = try #require(document["alerts_file"] as? [String: Any])
        #expect((alertsFile["lines"] as? Int ?? 0) >= 6 && alertsFile["over_bound"] as? [String] == [], "\(alertsFile)")
        #expect(run.output.contains("Alerts file: "))
        // Its follow-ups are the drops of the payload it sends again a second later.
        let row = run.output.split(separator: "\n").first { $0.hasPrefix("| SSH banner to port 80 |") }.map(String.init) ?? ""
        #expect(
            row.hasPrefix("| SSH banner to port 80 | protocol_mismatch | 2 | 2 | 1.00 | 0 | ") && row.contains(" | 0 / "), "\(run.output)")
        #expect(run.output.contains(", 0 after the block"), "the progress line says it: \(run.output)")
        let labID = try #require(run.output.split(separator: " ").first { $0.hasPrefix("pwlab-") }.map { String($0.dropLast()) })
        #expect(!(try Shell.run(["ip", "netns", "list"]).output.contains(labID + "-")), "the lab's namespaces are gone")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/bpf/\(labID)"), "and its pins")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(labID)"), "and its captures")
        #expect(
            !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/\(labID)")
                && !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(labID)"),
            "and its cgroup")
    }

    /// The control: with the block turned off, the same count sees the
    /// connection's last packets arrive after the decision, so the zero
    /// above is the block's doing, not a tap that saw nothing.
    @Test(.enabled(if: Shell.isInstalled("nc") && Shell.isInstalled("tcpdump"), "needs nc and tcpdump"))
    func withoutTheBlockPacketsArriveAfterTheDecision() throws {
        let json = "/tmp/podwall-eval-control-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try Shell.run(
            [
                PodwallBinary.path, "eval", "--repetitions", "1", "--only", "SSH banner", "--agent", "fresh",
                "--response", "protocol_mismatch=alert", "--json", json
            ], check: false)
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(document["agent_responses"] as? [String] == ["protocol_mismatch=alert"] && document["agent_mode"] as? String == "fresh")
        let ssh = try #require((document["scenarios"] as? [[String: Any]])?.first)
        #expect(ssh["detected"] as? Int == 1 && ssh["remediation_ms"] as? [Double] == [], "\(ssh)")
        #expect((ssh["delivered_after_response"] as? [Int] ?? []).first ?? 0 >= 1, "\(run.output)")
    }

    /// The process scenarios in a real container of the attacker pod: the
    /// shell is killed before it runs the listener's first command (no marker
    /// file), the relayed one by the agent; the benign shells raise nothing
    /// but the health check's curl (a network tool, counted apart).
    @Test(.enabled(if: ["runc", "nc", "curl", "script"].allSatisfy(Shell.isInstalled), "needs runc, nc, curl and script"))
    func reverseShellsInAContainerAreKilledAndBenignShellsRaiseNothing() throws {
        let json = "/tmp/podwall-eval-process-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try Shell.run(
            [
                PodwallBinary.path, "eval", "--repetitions", "2", "--only", "revshell-bash-tcp", "--only", "revshell-mkfifo-nc",
                "--only", "shell-pty", "--only", "health-check-script", "--json", json
            ], check: false)
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        func scenario(_ name: String) throws -> [String: Any] { try #require(scenarios.first { $0["scenario"] as? String == name }) }
        let bash = try scenario("revshell-bash-tcp")
        #expect(bash["detected"] as? Int == 2 && bash["killed_at_exec"] as? Int == 2 && bash["marker_files"] as? [Int] == [0, 0], "\(bash)")
        #expect((bash["detection_ms"] as? [Double] ?? []).allSatisfy { $0 < 100 }, "\(bash)")
        let mkfifo = try scenario("revshell-mkfifo-nc")
        // Killed in the kernel: the shell at its exec, or nc at its connect (the shell then dies of its pipe).
        #expect(mkfifo["detected"] as? Int == 2 && mkfifo["marker_files"] as? [Int] == [0, 0], "\(mkfifo)")
        #expect(mkfifo["false_alerts"] as? Int == 0 && mkfifo["accepted_alerts"] as? Int == 2, "nc's network_tool alert: \(mkfifo)")
        let pty = try scenario("shell-pty")
        #expect(
            pty["false_alerts"] as? Int == 0 && pty["accepted_alerts"] as? Int == 0 && pty["marker_files"] as? [Int] == [0, 0], "\(pty)")
        let health = try scenario("health-check-script")
        #expect(health["false_alerts"] as? Int == 0 && health["accepted_alerts"] as? Int == 10, "one per curl: \(health)")
        #expect(run.output.contains("Process scenarios"), "\(run.output)")
        let labID = try #require(run.output.split(separator: " ").first { $0.hasPrefix("pwlab-") }.map { String($0.dropLast()) })
        #expect(!FileManager.default.fileExists(atPath: "/run/\(labID)-runc"), "the lab's containers are gone")
    }
}
