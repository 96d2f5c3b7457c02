import Foundation
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// The agent and `podwall replay` judge the same traffic alike: the agent
/// live, on the kernel's flow events and flow-table snapshots, and replay on
/// the pcap `podwall capture` recorded of it on the pod's veth meanwhile,
/// both with one podwall.yaml whose exfiltration interval is not the default.
@Suite(
    .serialized, .enabled(if: Privileged.enabled, Privileged.reason),
    .enabled(if: KernelFeatures.probe().capture, "in-kernel capture needs Linux >= 5.12; this kernel loads the compat data path"))
struct LiveReplayAgreementTests {
    /// Interval 2 s (default 10), so 4 volume samples every 2 s; responses
    /// only alert, so that what the agent decides changes no packet the
    /// capture holds.
    static func configuration(alerts: String) -> String {
        """
        interfaces: ["veth-*"]
        cgroup: ""
        cluster_cidrs: [\(Lab.ipv4Subnet).0/24]
        detection:
          exfiltration:
            interval_seconds: 2
            warmup_intervals: 3
            floor_bytes: 5000000
        responses:
          port_scan: alert
          exfiltration: alert
          protocol_mismatch: alert
        alerts:
          file: \(alerts)
        """
    }

    /// What both must agree on: the kind and the pod; times differ (two
    /// clocks) and so does the interface (a pcap has none).
    static func decisions(_ lines: String) -> [String] {
        AgentLab.jsonLines(lines).filter { $0["is_update"] as? Bool != true }.map { alert in
            "\(alert["kind"] as? String ?? "?") from \((alert["source"] as? [String: Any])?["address"] as? String ?? "?")"
        }.sorted()
    }

    @Test(.enabled(if: Shell.isInstalled("nc"), "needs nc"))
    func theAgentAndReplayOfItsCaptureRaiseTheSameAlertsWithANonDefaultInterval() throws {
        let env = try AgentLab(pods: 1)
        try env.lab.addInternet()
        let directory = try env.lab.makeTemporaryDirectory()
        let (config, alerts, pcap) = ("\(directory)/podwall.yaml", "\(directory)/alerts.jsonl", "\(directory)/pod.pcap")
        try Self.configuration(alerts: alerts).write(toFile: config, atomically: true, encoding: .utf8)
        try env.startAgent(extraArguments: ["--config", config])
        let pod = env.lab.pods[0]
        let capture = try env.startCapture(["--interface", pod.hostInterface, "-o", pcap], log: "\(directory)/capture.log")
        try env.lab.spawn(inNamespace: env.lab.internetNamespace, ["sh", "-c", "nc -lk -p 9000 > /dev/null"])
        usleep(300_000)
        // Warm-up: a trickle to the internet for five intervals, then a 30 MB push.
        for _ in 0..<20 {
            try env.lab.inPod(pod, ["sh", "-c", "head -c 2000 /dev/zero | nc -q 0 -w 1 \(Lab.internetAddress) 9000"], check: false)
            usleep(500_000)
        }
        try env.lab.inPod(pod, ["sh", "-c", "head -c 30000000 /dev/zero | nc -q 0 -w 5 \(Lab.internetAddress) 9000"], check: false)
        let live = waitUntil(timeout: 6) { Self.decisions(AgentLab.text(alerts)).contains { $0.hasPrefix("exfiltration") } }
        AgentLab.stop(capture)
        env.stopAgent()
        #expect(live != nil, "no exfiltration alert from the agent; alerts: \(AgentLab.text(alerts)); log:\n\(env.log)")

        let replay = try Shell.run([env.binary, "replay", pcap, "--config", config, "--json"])
        let (liveAlerts, replayAlerts) = (Self.decisions(AgentLab.text(alerts)), Self.decisions(replay.output))
        #expect(liveAlerts == ["exfiltration from \(pod.ipv4)"], "\(AgentLab.text(alerts))")
        #expect(replayAlerts == liveAlerts, "replay: \(replay.output)\ncapture: \(AgentLab.text("\(directory)/capture.log"))")
        // The interval is what made the difference: at the default 10 s the pod is still warming up.
        let defaults = try Shell.run([env.binary, "replay", pcap, "--cluster-cidr", "\(Lab.ipv4Subnet).0/24", "--json"])
        #expect(!Self.decisions(defaults.output).contains { $0.hasPrefix("exfiltration") }, "\(defaults.output)")
    }
}
