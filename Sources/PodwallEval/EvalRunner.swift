import Foundation
import PodwallCore
import PodwallKernel
import PodwallLab

/// `podwall eval`: every scenario, N times, each against a freshly started
/// agent (so no detector state or dedup window carries over) on the same
/// lab, optionally with background load between two other pods.
public struct EvalRunner {
    public struct Options: Sendable {
        public var repetitions = 5
        public var backgroundLoad = false
        /// Only scenarios whose name contains one of these (case-insensitive).
        public var only: [String] = []
        public var binary: String

        public init(binary: String) { self.binary = binary }
    }

    let options: Options
    let progress: @Sendable (String) -> Void

    public init(options: Options, progress: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.progress = progress
    }

    /// `labReady` gets the lab as soon as it exists (to remove it on Ctrl-C).
    public func run(labReady: (Lab) -> Void = { _ in }) throws -> [ScenarioResult] {
        let lab = try Lab(pods: 5)
        defer { lab.teardown() }
        labReady(lab)
        try lab.addInternet()
        progress("lab \(lab.id): \(lab.pods.count) pods and an internet; removed at the end")
        let pods = EvalPods(lab: lab, attacker: lab.pods[0], victim: lab.pods[1], web: lab.pods[2])
        try startServices(pods)
        if options.backgroundLoad { try startLoad(lab, client: lab.pods[3], server: lab.pods[4]) }
        let agent = LabAgent(lab: lab, binary: options.binary)
        defer {
            agent.stop()
            agent.removeFiles()
        }
        let scenarios = EvalScenario.all.filter { scenario in
            options.only.isEmpty || options.only.contains { scenario.name.lowercased().contains($0.lowercased()) }
        }
        var results = scenarios.map { ScenarioResult(scenario: $0.name, expected: $0.expected) }
        for (index, scenario) in scenarios.enumerated() {
            if let missing = scenario.tools.first(where: { !Shell.isInstalled($0) }) {
                results[index].skipped = "\(missing) is not installed"
                continue
            }
            for repetition in 1...options.repetitions {
                try reset(pods, agent: agent, scenario: scenario)
                let before = agent.alerts().count
                try scenario.play(pods)
                let fresh = waitForAlerts(agent, after: before, expected: scenario.expected)
                record(fresh, into: &results[index])
                progress("\(scenario.name) \(repetition)/\(options.repetitions): "
                         + (fresh.isEmpty ? "no alert" : fresh.compactMap { $0["kind"] as? String }.joined(separator: ", ")))
            }
        }
        return results
    }

    /// Web servers in two pods, sinks in the internet namespace.
    private func startServices(_ pods: EvalPods) throws {
        let lab = pods.lab
        for pod in [pods.web, pods.victim] {
            try lab.spawnInPod(pod, ["python3", "-m", "http.server", "80", "--bind", pod.ipv4, "--directory", "/var/empty"])
        }
        try lab.spawnInPod(pods.web, ["iperf3", "-s", "-p", "5301"])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "nc -lk -p 9000 > /dev/null"])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "while true; do nc -l -p 80 > /dev/null; done"])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "while true; do nc -l -p 8088 > /dev/null; done"])
        try? FileManager.default.createDirectory(atPath: "/var/empty", withIntermediateDirectories: true)
        usleep(500_000)
    }

    /// Full-speed TCP and a 64-byte UDP flood between two other pods, for the whole run.
    private func startLoad(_ lab: Lab, client: Lab.Pod, server: Lab.Pod) throws {
        try lab.spawnInPod(server, ["iperf3", "-s", "-p", "5201"])
        try lab.spawnInPod(server, ["iperf3", "-s", "-p", "5202"])
        usleep(300_000)
        try lab.spawnInPod(client, ["iperf3", "-c", server.ipv4, "-p", "5201", "-t", "86400"])
        try lab.spawnInPod(client, ["iperf3", "-c", server.ipv4, "-p", "5202", "-u", "-b", "0", "-l", "64", "-t", "86400"])
    }

    /// No quarantine, no dynamic block, a fresh agent; the blocklist scenario's entry only for it.
    private func reset(_ pods: EvalPods, agent: LabAgent, scenario: EvalScenario) throws {
        agent.stop()
        let state = PinnedState(pinRoot: pods.lab.pinRoot)
        if state.isInstalled {
            let quarantine = try state.quarantine()
            for key in quarantine.keys() { _ = try quarantine.delete(key) }
            let blocklist = try state.blocklist()
            for (prefix, entry) in blocklist.entries() where entry.isDynamic { _ = try blocklist.removeDynamic(prefix) }
        }
        if scenario.expected == "blocklist_hit" {
            try agent.podwall(["blocklist", "add", EvalPods.blockedAddress, "--ttl", "10m"])
        }
        try agent.start(extraArguments: ["--api", ""])
    }

    private func waitForAlerts(_ agent: LabAgent, after before: Int, expected: String?) -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(expected == nil ? 1.5 : 8)
        while Date() < deadline {
            if let expected, agent.alerts().dropFirst(before).contains(where: { $0["kind"] as? String == expected }) { break }
            usleep(100_000)
        }
        if expected != nil { usleep(300_000) }   // alerts of other kinds that come with it
        return agent.alerts().dropFirst(before).filter { $0["is_update"] as? Bool != true }
    }

    private func record(_ alerts: [[String: Any]], into result: inout ScenarioResult) {
        result.runs += 1
        let matching = alerts.filter { $0["kind"] as? String == result.expected }
        let blocked = Set(alerts.flatMap { ($0["actions"] as? [[String: Any]] ?? []).compactMap { $0["remote"] as? String } })
        let followUps = alerts.filter { alert in
            guard alert["kind"] as? String == "blocklist_hit", result.expected != "blocklist_hit",
                  let evidence = alert["evidence"] as? [String: Any] else { return false }
            return evidence["reason"] as? String == "quarantine" || blocked.contains(evidence["remote"] as? String ?? "")
        }
        result.followUps += followUps.count
        result.falseAlerts += alerts.count - matching.count - followUps.count
        guard let alert = matching.first else { return }
        result.detected += 1
        if let latency = alert["detection_latency_ms"] as? Double { result.detectionMs.append(latency) }
        if let remediation = alert["response_latency_ms"] as? Double { result.remediationMs.append(remediation) }
    }
}
