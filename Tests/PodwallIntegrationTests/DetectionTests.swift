import Foundation
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// Real attack tools against lab pods with the agent running: alerts come
/// out as JSON lines and the responses land in the kernel.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct DetectionTests {
    func alerts(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func startedLab(pods: Int) throws -> (AgentLab, String) {
        let env = try AgentLab(pods: pods)
        let alertsFile = "/tmp/\(env.lab.id)-alerts.jsonl"
        try env.startAgent(extraArguments: ["--alerts", alertsFile, "--cgroup", try #require(env.lab.cgroupPath)])
        return (env, alertsFile)
    }

    @Test(.enabled(if: Shell.isInstalled("nmap"), "needs nmap"))
    func anNmapPortSweepIsDetectedAndThePodQuarantined() throws {
        let (env, alertsFile) = try startedLab(pods: 2)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let (scanner, target) = (env.lab.pods[0], env.lab.pods[1])
        try env.lab.inPod(scanner, // Once quarantined, the remaining probes go unanswered: cap the run.
        ["nmap", "-sT", "-Pn", "-n", "-p", "1-1000", "-T4", "--max-retries", "0", "--host-timeout", "8s", target.ipv4], check: false)
        let found = waitUntil(timeout: 5) { alerts(alertsFile).contains { $0["kind"] as? String == "port_scan" } }
        #expect(found != nil, "no port_scan alert; agent log:\n\(env.log)")
        let scan = try #require(alerts(alertsFile).first { $0["kind"] as? String == "port_scan" })
        let latency = try #require(scan["detection_latency_ms"] as? Double)
        #expect(latency < 1000, "alert \(latency) ms after the deciding packet")
        let actions = (scan["actions"] as? [[String: Any]]) ?? []
        #expect(actions.contains { $0["type"] as? String == "quarantine" }, "\(scan)")
        let list = try env.podwall(["quarantine", "list"]).output
        #expect(list.contains(scanner.hostInterface), "\(list)")
        // Quarantined: a new connection from the scanner goes nowhere.
        let listener = try NetworkNamespace.run(target.namespace) { try LabSocket.tcpListener(address: target.ipv4, port: 8443) }
        defer { close(listener) }
        let attempt = try env.lab.inPod(scanner, ["nc", "-z", "-w", "1", target.ipv4, "8443"], check: false)
        #expect(!attempt.succeeded)
        #expect(try env.podwall(["quarantine", "release", scanner.hostInterface]).succeeded)
    }

    @Test(.enabled(if: Shell.isInstalled("curl") && Shell.isInstalled("nc"), "needs curl and nc"))
    func httpIsQuietAndATunnelOnPort80IsDetectedAndBlocked() throws {
        let (env, alertsFile) = try startedLab(pods: 3)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let (client, web, c2) = (env.lab.pods[0], env.lab.pods[1], env.lab.pods[2])
        try env.lab.spawnInPod(web, ["sh", "-c", "while true; do printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok' | nc -l -p 80 -q 1; done"])
        try env.lab.spawnInPod(c2, ["sh", "-c", "nc -l -p 80 > /dev/null"])
        usleep(300_000)
        let page = try env.lab.inPod(client, ["curl", "-s", "--max-time", "3", "http://\(web.ipv4)/"], check: false)
        #expect(page.output == "ok")
        try env.lab.inPod(client, ["sh", "-c", "printf 'SSH-2.0-OpenSSH_9.2\\r\\n' | nc -q 1 -w 2 \(c2.ipv4) 80"], check: false)
        let found = waitUntil(timeout: 3) { alerts(alertsFile).contains { $0["kind"] as? String == "protocol_mismatch" } }
        #expect(found != nil, "no protocol_mismatch alert; log:\n\(env.log)")
        let all = alerts(alertsFile)
        #expect(!all.contains { ($0["flows"] as? [[String: Any]])?.contains { $0["remote"] as? String == web.ipv4 } == true },
                "plain HTTP must raise nothing: \(all)")
        let check = try env.podwall(["blocklist", "check", c2.ipv4]).output
        #expect(check.contains("is blocked"), "the tunnel's destination is blocked: \(check)")
    }

    @Test(.enabled(if: Shell.isInstalled("nmap") && Shell.isInstalled("tcpdump") && Shell.isInstalled("curl"), "needs nmap, tcpdump, curl"))
    func replayingACaptureOfRealToolsGivesTheSameVerdicts() throws {
        let env = try AgentLab(pods: 2)
        let (scanner, web) = (env.lab.pods[0], env.lab.pods[1])
        let capture = "/tmp/\(env.lab.id)-capture.pcap"
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let tcpdump = try env.lab.spawn(["ip", "netns", "exec", env.lab.nodeNamespace, "tcpdump", "-i", "br0", "-U", "-w", capture])
        usleep(700_000)
        try env.lab.spawnInPod(web, ["sh", "-c", "while true; do printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok' | nc -l -p 80 -q 1; done"])
        usleep(300_000)
        #expect(try env.lab.inPod(scanner, ["curl", "-s", "--max-time", "3", "http://\(web.ipv4)/"], check: false).output == "ok")
        try env.lab.inPod(scanner, ["nmap", "-sT", "-Pn", "-n", "-p", "1-200", "-T4", web.ipv4], check: false)
        usleep(500_000)
        tcpdump.terminate()
        _ = waitUntil(timeout: 3) { !tcpdump.isRunning }
        let replay = try Shell.run([PodwallBinary.path, "replay", capture, "--json"])
        let alerts = replay.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(alerts.map { $0["kind"] as? String } == ["port_scan"], "\(replay.output)")
        #expect((alerts.first?["source"] as? [String: Any])?["address"] as? String == scanner.ipv4)
    }
}
