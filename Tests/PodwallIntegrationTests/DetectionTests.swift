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
        AgentLab.jsonLines(AgentLab.text(path))
    }

    func startedLab(pods: Int, internet: Bool = false, _ extra: [String] = []) throws -> (AgentLab, String) {
        let env = try AgentLab(pods: pods)
        if internet { try env.lab.addInternet() }
        let alertsFile = "/tmp/\(env.lab.id)-alerts.jsonl"
        try env.startAgent(
            extraArguments: [
                "--alerts", alertsFile, "--cgroup", try #require(env.lab.cgroupPath),
                "--cluster-cidr", "\(Lab.ipv4Subnet).0/24"
            ] + extra)
        return (env, alertsFile)
    }

    // Connect, SYN, SYN in 8-byte fragments (nmap -f), which hides the TCP
    // flags, and the FIN, NULL, Xmas and ACK scans.
    static let scans: [[String]] = [
        ["-sT", "-p", "1-1000"], ["-sS", "-p", "1-1000"], ["-sS", "-f", "-p", "1-1000"],
        ["-sF", "-p", "1-1000"], ["-sN", "-p", "1-1000"], ["-sX", "-p", "1-1000"], ["-sA", "-p", "1-1000"]
    ]

    @Test(.enabled(if: Shell.isInstalled("nmap"), "needs nmap"), arguments: 0..<7)
    func anNmapPortSweepIsDetectedAndThePodQuarantined(scan: Int) throws {
        let (env, alertsFile) = try startedLab(pods: 2)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let (scanner, target) = (env.lab.pods[0], env.lab.pods[1])
        // Once quarantined, the remaining probes go unanswered: cap the run.
        let nmap = ["nmap"] + Self.scans[scan] + ["-Pn", "-n", "-T4", "--max-retries", "0", "--host-timeout", "8s", target.ipv4]
        try env.lab.inPod(scanner, nmap, check: false)
        let found = waitUntil(timeout: 5) { alerts(alertsFile).contains { $0["kind"] as? String == "port_scan" } }
        #expect(found != nil, "no port_scan alert; agent log:\n\(env.log)")
        let scan = try #require(alerts(alertsFile).first { $0["kind"] as? String == "port_scan" })
        let latency = try #require(scan["detection_latency_ms"] as? Double)
        #expect(latency < 1000, "alert \(latency) ms after the deciding packet")
        let actions = (scan["actions"] as? [[String: Any]]) ?? []
        #expect(actions.contains { $0["type"] as? String == "quarantine" }, "\(scan)")
        #expect((scan["source"] as? [String: Any])?["interface"] as? String == scanner.hostInterface, "\(scan)")
        let response = try #require(scan["response_latency_ms"] as? Double)
        #expect(response < 10, "quarantine in force \(response) ms after the decision")
        let list = try env.podwall(["quarantine", "list"]).output
        #expect(list.contains(scanner.hostInterface), "\(list)")
        // Quarantined: a new connection from the scanner goes nowhere.
        let listener = try NetworkNamespace.run(target.namespace) { try LabSocket.tcpListener(address: target.ipv4, port: 8443) }
        defer { close(listener) }
        let attempt = try env.lab.inPod(scanner, ["nc", "-z", "-w", "1", target.ipv4, "8443"], check: false)
        #expect(!attempt.succeeded)
        #expect(try env.podwall(["quarantine", "release", scanner.hostInterface]).succeeded)
    }

    @Test(.enabled(if: Shell.isInstalled("nmap") && Shell.isInstalled("python3"), "needs nmap and python3"))
    func aScanFromAPodThatFloodsNewUDPFlowsIsDetectedWithinASecond() throws {
        let (env, alertsFile) = try startedLab(pods: 3)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let (scanner, target, bystander) = (env.lab.pods[0], env.lab.pods[1], env.lab.pods[2])
        try env.lab.spawnNewFlowFlood(from: scanner, to: bystander.ipv4, port: 9)
        usleep(1_000_000)  // the flood is at full rate when the scan starts
        var started = timespec()
        clock_gettime(CLOCK_REALTIME, &started)
        let startNs = Double(started.tv_sec) * 1e9 + Double(started.tv_nsec)
        try env.lab.inPod(
            scanner,
            [
                "nmap", "-sS", "-Pn", "-n", "-p", "1-1000", "-T4", "--max-retries", "0", "--host-timeout", "8s",
                target.ipv4
            ], check: false)
        let found = waitUntil(timeout: 5) { alerts(alertsFile).contains { $0["kind"] as? String == "port_scan" } }
        #expect(found != nil, "no port_scan alert under the flood; log:\n\(env.log)")
        let scan = try #require(alerts(alertsFile).first { $0["kind"] as? String == "port_scan" })
        let decided = try #require((scan["time_ns"] as? NSNumber)?.doubleValue)
        #expect(decided - startNs < 1e9, "decided \((decided - startNs) / 1e6) ms after nmap started")
        #expect((scan["source"] as? [String: Any])?["interface"] as? String == scanner.hostInterface, "\(scan)")
    }

    /// Issue 19: a SYN flood from one pod is summarized in the kernel past
    /// its event budget and reported as a flood; a scan from another pod
    /// meanwhile is detected from its own events, none of them lost (counted
    /// per pod).
    @Test(.enabled(if: Shell.isInstalled("nmap") && Shell.isInstalled("hping3"), "needs nmap and hping3"))
    func aFloodingPodIsSummarizedAndReportedWhileAnotherPodsScanIsDetected() throws {
        let (env, alertsFile) = try startedLab(pods: 3)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let (flooder, scanner, target) = (env.lab.pods[0], env.lab.pods[1], env.lab.pods[2])
        try env.lab.spawnInPod(flooder, ["timeout", "-s", "KILL", "6", "hping3", "--flood", "-S", "-p", "80", target.ipv4])
        usleep(1_500_000)  // past the pod's burst
        var started = timespec()
        clock_gettime(CLOCK_REALTIME, &started)
        let startNs = Double(started.tv_sec) * 1e9 + Double(started.tv_nsec)
        try env.lab.inPod(
            scanner, ["nmap", "-sS", "-Pn", "-n", "-p", "1-500", "-T4", "--max-retries", "0", "--host-timeout", "8s", target.ipv4],
            check: false)
        func scanOfScanner() -> [String: Any]? {
            alerts(alertsFile).first {
                $0["kind"] as? String == "port_scan" && ($0["source"] as? [String: Any])?["interface"] as? String == scanner.hostInterface
            }
        }
        _ = waitUntil(timeout: 5) { scanOfScanner() != nil }
        let scan = try #require(scanOfScanner(), "no port_scan alert from the scanner under the flood; log:\n\(env.log)")
        let decided = try #require((scan["time_ns"] as? NSNumber)?.doubleValue)
        // The issue's 1 s is for a release agent; here hping3 takes one of two cores and other suites run.
        #expect(decided - startNs < 2e9, "decided \((decided - startNs) / 1e6) ms after nmap started")
        _ = waitUntil(timeout: 3) { alerts(alertsFile).contains { $0["kind"] as? String == "flood" } }
        let flood = try #require(alerts(alertsFile).first { $0["kind"] as? String == "flood" }, "no flood alert; log:\n\(env.log)")
        // Every line names its pod: the summary carries only the interface.
        let floodSource = try #require(flood["source"] as? [String: Any])
        #expect(floodSource["interface"] as? String == flooder.hostInterface, "\(flood)")
        #expect(floodSource["address"] as? String == flooder.ipv4, "\(flood)")
        #expect(floodSource["pod_name"] as? String == flooder.namespace, "\(flood)")
        let evidence = try #require(flood["evidence"] as? [String: Any])
        #expect(evidence["technique"] as? String == "syn_flood", "\(evidence)")
        #expect((evidence["new_flows_per_second"] as? Double ?? 0) >= 1000, "\(evidence)")
        // Summarized: only the flooding pod, and the ring lost nothing.
        let metrics = try env.api("GET", "/metrics").body.split(separator: "\n")
        // The flooder's flows, and the target's (the same flows, entering it): never the scanner's.
        let summarized = metrics.filter { $0.hasPrefix("podwall_flows_summarized_total{") }
        #expect(summarized.count == 2, "\(summarized)")
        #expect(
            alerts(alertsFile).filter { $0["kind"] as? String == "flood" }.allSatisfy {
                ($0["source"] as? [String: Any])?["interface"] as? String == flooder.hostInterface
            }, "the flooded pod is not the flooder")
        // Counted per pod too: the scanner lost none of its events.
        let scannerLost = metrics.first { $0.hasPrefix("podwall_interface_events_lost_total{interface=\"\(scanner.hostInterface)\"}") }
        #expect(scannerLost?.hasSuffix(" 0") == true, "\(metrics.filter { $0.contains("events_lost") })")
    }

    @Test(.enabled(if: Shell.isInstalled("nmap"), "needs nmap"))
    func aSweepOfAWholeSubnetIsAHorizontalScan() throws {
        let (env, alertsFile) = try startedLab(pods: 1, internet: true)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        // 198.19.1.0/24 is routed to the node and goes nowhere: no host answers.
        try env.lab.inPod(
            env.lab.pods[0],
            [
                "nmap", "-sT", "-Pn", "-n", "-p", "80", "-T5", "--max-retries", "0",
                "--host-timeout", "3s", "198.19.1.0/24"
            ], check: false)
        let found = waitUntil(timeout: 8) { alerts(alertsFile).contains { $0["kind"] as? String == "port_scan" } }
        #expect(found != nil, "no port_scan alert for a /24 sweep; log:\n\(env.log)")
        let evidence = alerts(alertsFile).first { $0["kind"] as? String == "port_scan" }?["evidence"] as? [String: Any]
        #expect((evidence?["probed_hosts"] as? Int ?? 0) >= 25, "\(String(describing: evidence))")
        #expect(evidence?["scan_type"] as? String == "horizontal")
    }

    @Test(.enabled(if: Shell.isInstalled("nc"), "needs nc"))
    func aBulkPushToTheInternetAfterAQuietWarmUpIsExfiltration() throws {
        let (env, alertsFile) = try startedLab(
            pods: 1, internet: true,
            ["--exfil-interval", "1", "--exfil-warmup", "4", "--exfil-floor", "20000000"])
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let pod = env.lab.pods[0]
        try env.lab.spawn(inNamespace: env.lab.internetNamespace, ["sh", "-c", "nc -lk -p 9000 > /dev/null"])
        usleep(300_000)
        // Warm-up: a trickle to the internet for six intervals.
        for _ in 0..<12 {
            try env.lab.inPod(pod, ["sh", "-c", "head -c 2000 /dev/zero | nc -q 0 -w 1 \(Lab.internetAddress) 9000"], check: false)
            usleep(500_000)
        }
        #expect(!alerts(alertsFile).contains { $0["kind"] as? String == "exfiltration" }, "the warm-up is quiet")
        try env.lab.inPod(pod, ["sh", "-c", "head -c 200000000 /dev/zero | nc -q 0 -w 5 \(Lab.internetAddress) 9000"], check: false)
        let found = waitUntil(timeout: 4) { alerts(alertsFile).contains { $0["kind"] as? String == "exfiltration" } }
        #expect(found != nil, "no exfiltration alert; alerts: \(alerts(alertsFile)); log:\n\(env.log)")
        let check = try env.podwall(["blocklist", "check", Lab.internetAddress]).output
        #expect(check.contains("is blocked"), "the destination is blocked: \(check)")
    }

    @Test(.enabled(if: Shell.isInstalled("iperf3"), "needs iperf3"))
    func aSteadyBulkFlowWithALongBaselineIsNot() throws {
        let (env, alertsFile) = try startedLab(
            pods: 1, internet: true,
            ["--exfil-interval", "1", "--exfil-warmup", "4", "--exfil-floor", "20000000"])
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        try env.lab.spawn(inNamespace: env.lab.internetNamespace, ["iperf3", "-s"])
        usleep(500_000)
        // 1 Gbit/s paced for 15 s: ~125 MB in every interval, well over the floor.
        // Bounded: a blocked destination (the alert this test must not see) leaves iperf3 spinning.
        try env.lab.inPod(
            env.lab.pods[0], ["timeout", "30", "iperf3", "-c", Lab.internetAddress, "-t", "15", "-b", "1G"], check: false)
        usleep(1_500_000)
        #expect(!alerts(alertsFile).contains { $0["kind"] as? String == "exfiltration" }, "\(alerts(alertsFile))")
    }

    @Test(.enabled(if: Shell.isInstalled("curl") && Shell.isInstalled("nc"), "needs curl and nc"))
    func httpIsQuietAndATunnelOnPort80IsDetectedAndBlocked() throws {
        let (env, alertsFile) = try startedLab(pods: 3)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let (client, web, c2) = (env.lab.pods[0], env.lab.pods[1], env.lab.pods[2])
        try env.lab.spawnInPod(
            web, ["sh", "-c", "while true; do printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok' | nc -l -p 80 -q 1; done"])
        try env.lab.spawnInPod(c2, ["sh", "-c", "nc -l -p 80 > /dev/null"])
        usleep(300_000)
        let page = try env.lab.inPod(client, ["curl", "-s", "--max-time", "3", "http://\(web.ipv4)/"], check: false)
        #expect(page.output == "ok")
        try env.lab.inPod(client, ["sh", "-c", "printf 'SSH-2.0-OpenSSH_9.2\\r\\n' | nc -q 1 -w 2 \(c2.ipv4) 80"], check: false)
        let found = waitUntil(timeout: 3) { alerts(alertsFile).contains { $0["kind"] as? String == "protocol_mismatch" } }
        #expect(found != nil, "no protocol_mismatch alert; log:\n\(env.log)")
        let mismatch = alerts(alertsFile).first { $0["kind"] as? String == "protocol_mismatch" }
        #expect((mismatch?["detection_latency_ms"] as? Double ?? 1e9) < 1000)
        #expect((mismatch?["evidence"] as? [String: Any])?["protocol"] as? String == "ssh", "\(String(describing: mismatch))")
        let all = alerts(alertsFile)
        #expect(
            !all.contains { ($0["flows"] as? [[String: Any]])?.contains { $0["remote"] as? String == web.ipv4 } == true },
            "plain HTTP must raise nothing: \(all)")
        let check = try env.podwall(["blocklist", "check", c2.ipv4]).output
        #expect(check.contains("is blocked"), "the tunnel's destination is blocked: \(check)")
    }

    @Test(
        .enabled(
            if: Shell.isInstalled("curl") && Shell.isInstalled("nc") && Shell.isInstalled("iperf3") && Shell.isInstalled("python3"),
            "needs curl, nc, iperf3, python3"))
    func thousandsOfRealHTTPFetchesUnderLoadAreQuietAndShellCommandsAreBlockedAgainAfterARelease() throws {
        let (env, alertsFile) = try startedLab(pods: 3)
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        let (client, web, bystander) = (env.lab.pods[0], env.lab.pods[1], env.lab.pods[2])
        try env.lab.spawnSplitWriteHTTPServer(in: web)
        try env.lab.spawnInPod(bystander, ["iperf3", "-s"])
        usleep(500_000)
        // Load on the client itself: a full-speed TCP stream to the bystander.
        try env.lab.spawnInPod(client, ["iperf3", "-c", bystander.ipv4, "-t", "120"])
        let fetches = 2000
        let codes = try env.lab.inPod(
            client,
            [
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}\n", "--max-time", "5",
                "http://\(web.ipv4)/[1-\(fetches)]"
            ], check: false
        ).output
        #expect(codes.split(separator: "\n").filter { $0 == "200" }.count == fetches, "every fetch answered")
        usleep(1_000_000)
        let quiet = alerts(alertsFile).filter { $0["kind"] as? String == "protocol_mismatch" }
        #expect(quiet.isEmpty, "\(fetches) real HTTP exchanges under load raised: \(quiet)")

        let shell = ["sh", "-c", "printf 'id\\nuname -a\\n' | nc -q 1 -w 2 \(web.ipv4) 80"]
        try env.lab.inPod(client, shell, check: false)
        let found = waitUntil(timeout: 3) { alerts(alertsFile).contains { $0["kind"] as? String == "protocol_mismatch" } }
        #expect(found != nil, "shell commands to port 80 are a mismatch; log:\n\(env.log)")
        #expect(waitUntil(timeout: 2) { (try? env.podwall(["blocklist", "check", web.ipv4]).output.contains("is blocked")) == true } != nil)
        // Released by hand: the shell goes on, and the block comes back.
        try env.podwall(["blocklist", "del", web.ipv4])
        #expect(try env.podwall(["blocklist", "check", web.ipv4]).output.contains("not blocked"))
        try env.lab.inPod(client, shell, check: false)
        let again = waitUntil(timeout: 3) { (try? env.podwall(["blocklist", "check", web.ipv4]).output.contains("is blocked")) == true }
        #expect(again != nil, "the continuing shell commands block the destination again; alerts: \(alerts(alertsFile))")
    }

    @Test(.enabled(if: Shell.isInstalled("nmap") && Shell.isInstalled("tcpdump") && Shell.isInstalled("curl"), "needs nmap, tcpdump, curl"))
    func replayingACaptureOfRealToolsGivesTheSameVerdicts() throws {
        let env = try AgentLab(pods: 2)
        let (scanner, web) = (env.lab.pods[0], env.lab.pods[1])
        let capture = "/tmp/\(env.lab.id)-capture.pcap"
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let tcpdump = try env.lab.spawn(["ip", "netns", "exec", env.lab.nodeNamespace, "tcpdump", "-i", "br0", "-U", "-w", capture])
        usleep(700_000)
        try env.lab.spawnInPod(
            web, ["sh", "-c", "while true; do printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok' | nc -l -p 80 -q 1; done"])
        usleep(300_000)
        #expect(try env.lab.inPod(scanner, ["curl", "-s", "--max-time", "3", "http://\(web.ipv4)/"], check: false).output == "ok")
        try env.lab.inPod(scanner, ["nmap", "-sT", "-Pn", "-n", "-p", "1-200", "-T4", web.ipv4], check: false)
        try env.lab.inPod(scanner, ["sh", "-c", "printf 'SSH-2.0-OpenSSH_9.2\\r\\n' | nc -q 1 -w 2 \(web.ipv4) 80"], check: false)
        usleep(500_000)
        tcpdump.terminate()
        _ = waitUntil(timeout: 3) { !tcpdump.isRunning }
        let replay = try Shell.run([PodwallBinary.path, "replay", capture, "--json"])
        let alerts = replay.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(Set(alerts.compactMap { $0["kind"] as? String }) == ["port_scan", "protocol_mismatch"], "\(replay.output)")
        #expect(alerts.count == 2, "one alert each, no others: \(replay.output)")
        #expect((alerts.first?["source"] as? [String: Any])?["address"] as? String == scanner.ipv4)
    }
}
