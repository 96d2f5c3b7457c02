import Foundation
import PodwallBenchSupport
import PodwallLab

/// The attacks of one repetition, each by the pod that plays it.
enum Attack: String, CaseIterable {
    case scan, tunnel, push, flood

    /// The alert kind that detects it.
    var kind: String {
        switch self {
        case .scan: "port_scan"
        case .tunnel: "protocol_mismatch"
        case .push: "exfiltration"
        case .flood: "flood"
        }
    }

    /// How soon it must be decided after its tool started (the push: within its interval).
    var boundMs: Double {
        self == .push ? FloodBench.exfiltrationIntervalSeconds * 1000 : 1000
    }
}

/// One repetition's pods: new ones every time (no dedup window, detector
/// state or exfiltration baseline carries over between repetitions; the agent does).
struct RepetitionPods {
    let flooder: Lab.Pod
    let target: Lab.Pod
    let scanner: Lab.Pod
    /// The tunnel and the exfiltration push.
    let third: Lab.Pod

    var all: [Lab.Pod] { [flooder, target, scanner, third] }
    var roles: [(String, Lab.Pod)] { [("flooder", flooder), ("target", target), ("scanner", scanner), ("third", third)] }
}

struct RepetitionResult {
    var index: Int
    /// Per attack: tool start → the alert's decision (time_ns), ms; nil: no alert.
    var latencyMs: [Attack: Double] = [:]
    /// Per attack: the agent's own detection_latency_ms (deciding packet or sample → decision).
    var agentLatencyMs: [Attack: Double] = [:]
    /// podwall_interface_events_lost_total of each pod (new pods: the whole count is this repetition's).
    var interfaceLost: [String: Double] = [:]
    /// podwall_events_lost_total by stage, this repetition's increase.
    var stageLost: [String: Double] = [:]
    /// Alerts from this repetition's pods that are not one of the expected ones.
    var otherAlerts: [String] = []
    /// The push's shell: its start and its end (nc done), ms after the bench launched it.
    var pushShellMs: Double?
    var pushDoneMs: Double?
    var floodTechnique: String?
    /// The flooder's new flows the kernel summarized (podwall_flows_summarized_total of its interface).
    var summarized: Double?
    /// SYNs that reached the target a second (its Tcp InSegs over the flood).
    var floodSegmentsPerSecond: Double?
    var floodSeconds = 0.0
    var cpuPercent = Double.nan
    var rssBeforeMiB = Double.nan
    var rssPeakMiB = Double.nan
    var loadAverage = ""

    func detected(_ attack: Attack) -> Bool { latencyMs[attack] != nil }
    func inBound(_ attack: Attack) -> Bool { latencyMs[attack].map { $0 <= attack.boundMs } ?? false }
}

/// Runs repetitions against one long-lived agent in one lab.
struct FloodBench {
    static let floodSeconds = 10
    /// `LabAgent`'s shortened exfiltration settings (detection.exfiltration.*):
    /// interval_seconds 1, warmup_intervals 4, floor_bytes 20,000,000.
    static let exfiltrationIntervalSeconds = 1.0
    static let exfiltrationWarmupIntervals = 4
    /// The third pod's quiet baseline: a 2,000-byte push to the internet every
    /// ~0.5 s, started this long before the flood (the push comes 3 s into
    /// it: ≥ 8 intervals observed, the warm-up needs 4).
    static let trickleLeadSeconds = 5.0
    /// Into the flood: past the flooder's burst (1,000 events) and its first summaries.
    static let attackAtSeconds = 1.5
    static let pushAtSeconds = 3.0
    static let pushBytes = 200_000_000
    static let tunnelAddress = Lab.internetAddress2
    static let sinkAddress = Lab.internetAddress

    let lab: Lab
    let agent: LabAgent
    let probe: AgentProbe

    /// Sinks in the internet: port 9000 for the trickle and the push, port 80 for the tunnel.
    func startSinks() throws {
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "nc -lk -p 9000 > /dev/null"])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "while true; do nc -l -p 80 > /dev/null; done"])
        usleep(300_000)
    }

    func newPods() throws -> RepetitionPods {
        let pods = RepetitionPods(flooder: try lab.addPod(), target: try lab.addPod(), scanner: try lab.addPod(), third: try lab.addPod())
        // The agent attaches to new veths as they appear (its link watch).
        let deadline = Date().addingTimeInterval(10)
        while !pods.all.allSatisfy({ attached($0.hostInterface) }) {
            guard Date() < deadline else { throw BenchFailure("the agent did not attach to \(pods.all.map(\.hostInterface))") }
            usleep(50_000)
        }
        return pods
    }

    private func attached(_ interface: String) -> Bool {
        agent.log.contains("interface=\(interface) [PodwallAgent] attached")
    }

    /// Kills what runs in the pods' namespaces (all started by this bench) and deletes them; their veths go with them.
    func remove(_ pods: RepetitionPods) {
        for pod in pods.all {
            let pids = (try? Shell.run(["ip", "netns", "pids", pod.namespace], check: false))?.output ?? ""
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            _ = try? Shell.run(["ip", "netns", "delete", pod.namespace], check: false)
        }
    }

    func run(_ index: Int) throws -> RepetitionResult {
        var result = RepetitionResult(index: index)
        result.loadAverage = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "")
            .split(separator: " ").prefix(3).joined(separator: " ")
        let pods = try newPods()
        defer { remove(pods) }
        let stagesBefore = try probe.agent.metrics().filter { $0.key.hasPrefix("podwall_events_lost_total{") }
        let alertsBefore = agent.alerts().count

        // The third pod's quiet baseline.
        let trickle = try lab.spawnInPod(
            pods.third,
            [
                "sh", "-c",
                "while :; do head -c 2000 /dev/zero | nc -q 0 -w 1 \(Self.sinkAddress) 9000; sleep 0.5; done"
            ])
        usleep(useconds_t(Self.trickleLeadSeconds * 1_000_000))

        // The flood, and the agent's CPU and memory over it.
        let segmentsBefore = try? lab.snmpCounter(pods.target.namespace, group: "Tcp", field: "InSegs")
        result.rssBeforeMiB = probe.statusMiB("VmRSS")
        let sampler = RSSSampler(probe)
        let cpuBefore = probe.cpuSeconds()
        let floodStart = nowNs()
        let flood = try lab.spawnInPod(
            pods.flooder, ["timeout", "-s", "KILL", "\(Self.floodSeconds)", "hping3", "-S", "-p", "80", "--flood", pods.target.ipv4])
        var starts: [Attack: Int64] = [.flood: floodStart]

        sleep(until: floodStart, plus: Self.attackAtSeconds)
        starts[.scan] = nowNs()
        let scan = try lab.spawnInPod(
            pods.scanner,
            ["nmap", "-sS", "-Pn", "-n", "-p", "1-500", "-T4", "--max-retries", "0", "--host-timeout", "8s", pods.target.ipv4])
        starts[.tunnel] = nowNs()
        let tunnel = try lab.spawnInPod(
            pods.third, ["sh", "-c", "printf 'SSH-2.0-OpenSSH_9.2\\r\\n' | nc -q 1 -w 2 \(Self.tunnelAddress) 80"])

        sleep(until: floodStart, plus: Self.pushAtSeconds)
        trickle.terminate()
        starts[.push] = nowNs()
        // The pod's shell stamps the push's start and end (CLOCK_REALTIME, ns).
        let pushTimes = "\(lab.temporaryDirectory)/push-\(index)"
        let push = try lab.spawnInPod(
            pods.third,
            [
                "sh", "-c",
                "date +%s%N; head -c \(Self.pushBytes) /dev/zero | nc -q 0 -w 5 \(Self.sinkAddress) 9000; date +%s%N"
            ], logFile: pushTimes)

        waitForExit(flood, seconds: Double(Self.floodSeconds) + 5)
        let floodEnd = nowNs()
        let cpuAfter = probe.cpuSeconds()
        let rss = sampler.stop()
        result.floodSeconds = Double(floodEnd - floodStart) / 1e9
        result.cpuPercent = (cpuAfter - cpuBefore) / result.floodSeconds * 100
        result.rssPeakMiB = rss.peakMiB
        if let before = segmentsBefore, let after = try? lab.snmpCounter(pods.target.namespace, group: "Tcp", field: "InSegs") {
            result.floodSegmentsPerSecond = Double(after - before) / result.floodSeconds
        }
        for process in [scan, tunnel, push] { waitForExit(process, seconds: 5) }
        let stamps = ((try? String(contentsOfFile: pushTimes, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int64($0) }
        if stamps.count == 2, let launched = starts[.push] {
            result.pushShellMs = Double(stamps[0] - launched) / 1e6
            result.pushDoneMs = Double(stamps[1] - launched) / 1e6
        }
        // Past the scan detector's 3-s reply timeout, for anything decided late.
        usleep(3_500_000)

        let metrics = try probe.agent.metrics()
        for (role, pod) in pods.roles {
            result.interfaceLost[role] = metrics["podwall_interface_events_lost_total{interface=\"\(pod.hostInterface)\"}"]
        }
        for (series, value) in metrics where series.hasPrefix("podwall_events_lost_total{") {
            let stage = series.split(separator: "\"").dropFirst().first.map(String.init) ?? series
            result.stageLost[stage] = value - (stagesBefore[series] ?? 0)
        }
        if let ifindex = try? interfaceIndex(pods.flooder.hostInterface) {
            result.summarized = metrics["podwall_flows_summarized_total{ifindex=\"\(ifindex)\"}"]
        }

        let alerts = agent.alerts().dropFirst(alertsBefore).compactMap(AlertRecord.init)
        let player: [Attack: Lab.Pod] = [.scan: pods.scanner, .tunnel: pods.third, .push: pods.third, .flood: pods.flooder]
        var expected = Set<Int>()
        for attack in Attack.allCases {
            let interface = player[attack]!.hostInterface
            guard let (offset, alert) = alerts.enumerated().first(where: { $0.1.kind == attack.kind && $0.1.interface == interface }) else {
                continue
            }
            expected.insert(offset)
            result.latencyMs[attack] = Double(alert.timeNs - starts[attack]!) / 1e6
            result.agentLatencyMs[attack] = alert.detectionLatencyMs
            if attack == .flood { result.floodTechnique = alert.technique }
        }
        let ours = Dictionary(uniqueKeysWithValues: pods.roles.map { ($0.1.hostInterface, $0.0) })
        for (offset, alert) in alerts.enumerated() where !expected.contains(offset) {
            guard let interface = alert.interface, let role = ours[interface] else { continue }
            // Updates of an expected alert (the scan or flood going on) are no new incident.
            if alert.isUpdate
                && alerts.enumerated().contains(where: { expected.contains($0.0) && $0.1.kind == alert.kind && $0.1.interface == interface }
                )
            {
                continue
            }
            result.otherAlerts.append("\(alert.kind)\(alert.isUpdate ? " (update)" : "") from the \(role)")
        }
        return result
    }

    private func interfaceIndex(_ name: String) throws -> Int {
        let output = try lab.inNode(["cat", "/sys/class/net/\(name)/ifindex"]).output
        guard let index = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw BenchFailure("no ifindex for \(name)") }
        return index
    }

    private func sleep(until startNs: Int64, plus seconds: Double) {
        let wait = Double(startNs) / 1e9 + seconds - Double(nowNs()) / 1e9
        if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
    }

    /// Polls (Foundation's waitUntilExit can spin when the child came from another thread).
    private func waitForExit(_ process: Process, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
