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
        /// `--response kind=action` for the agent (a control run with responses off).
        public var responses: [String] = []
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
        var results = scenarios.map { scenario in
            var result = ScenarioResult(scenario: scenario.name, expected: scenario.expected)
            result.response = scenario.measured?.response
            return result
        }
        let tcpdump = Shell.isInstalled("tcpdump")
        for (index, scenario) in scenarios.enumerated() {
            if let missing = scenario.tools.first(where: { !Shell.isInstalled($0) }) {
                results[index].skipped = "\(missing) is not installed"
                continue
            }
            let receiver = scenario.measured.map { Receiver.of($0.target, pods) }
            for repetition in 1...options.repetitions {
                // The alert's time is the agent's CLOCK_MONOTONIC shifted by the
                // CLOCK_REALTIME offset it takes at start; the tap stamps
                // CLOCK_REALTIME. Any change of that offset over the run (NTP)
                // is allowed for when counting.
                let offsetBefore = MonotonicClock.wallClockOffset()
                try reset(pods, agent: agent, scenario: scenario)
                var tap: Result<ReceiverTap, Error>?
                if let receiver {
                    tap = tcpdump ? Result { try ReceiverTap(lab: lab, receiver: receiver, name: "run-\(index + 1)-\(repetition)") }
                        : .failure(ReceiverTap.Failure(description: "tcpdump is not installed"))
                }
                let before = agent.alerts().count
                try scenario.play(pods)
                let played = Date()
                let fresh = waitForAlerts(agent, after: before, expected: scenario.expected)
                // A second after the attack for retransmissions of what was dropped.
                if tap != nil, case let rest = 1 - Date().timeIntervalSince(played), rest > 0 { usleep(useconds_t(rest * 1_000_000)) }
                let capture = tap.map { tap in Result { try tap.get().finish() } }
                let drift = abs(MonotonicClock.wallClockOffset() - offsetBefore)
                let alert = record(fresh, into: &results[index])
                var line = "\(scenario.name) \(repetition)/\(options.repetitions): "
                    + (fresh.isEmpty ? "no alert" : fresh.compactMap { $0["kind"] as? String }.joined(separator: ", "))
                if let alert {
                    line += String(format: "; detect %.1f ms", alert["detection_latency_ms"] as? Double ?? .nan)
                    if let remediation = alert["response_latency_ms"] as? Double { line += String(format: ", in force %.1f ms later", remediation) }
                }
                if let capture, let response = scenario.measured?.response, let receiver {
                    line += "; " + measure(capture, response: response, receiver: receiver, alert: alert,
                                           clockUncertaintyNs: drift + Self.clockReadAllowanceNs, repetition: repetition, into: &results[index])
                }
                progress(line)
            }
        }
        return results
    }

    /// Reading CLOCK_REALTIME and CLOCK_MONOTONIC one after the other (for
    /// the offset) takes well under this.
    static let clockReadAllowanceNs: Int64 = 1_000

    /// Counts, from the tap's capture, the attacker's packets that got
    /// through after the response; returns the progress line's part.
    private func measure(_ capture: Result<ReceiverTap.Capture, Error>, response: Delivery.Response, receiver: Receiver,
                         alert: [String: Any]?, clockUncertaintyNs: Int64, repetition: Int, into result: inout ScenarioResult) -> String {
        let packets: ReceiverTap.Capture
        switch capture {
        case .success(let capture): packets = capture
        case .failure(let error):
            result.unmeasured.append("run \(repetition): \(error)")
            return "at the target: not measured (\(error))"
        }
        let arrivals = Delivery.arrivals(packets.frames)
        var note = ""
        let inForce: Int64
        if response == .blockedFromStart {
            inForce = .min / 2
        } else if let alert, let time = Delivery.inForce(alert: alert) {
            inForce = time.ns
            if !time.enforced { note = ", the alert enforced nothing: counted from the decision" }
        } else {
            result.unmeasured.append("run \(repetition): no alert, so no response")
            return "at the target (\(receiver.name)): \(arrivals.count) packets from the attacker, no response to measure"
        }
        let outcome = Delivery.outcome(arrivals, response: response, inForceNs: inForce, clockUncertaintyNs: clockUncertaintyNs)
        result.record(outcome, tapDrops: packets.kernelDrops, clockUncertaintyNs: clockUncertaintyNs)
        var line = "at the target (\(receiver.name)): \(outcome.received) packets from the attacker, \(outcome.afterResponse) "
        switch response {
        case .blockedFromStart: line += "past the block (blocked from the start)"
        case .block: line += "after the block"
        case .quarantine: line += "of new flows after the quarantine"
        }
        if let last = outcome.lastArrivalMs {
            line += " (last " + String(format: "%.1f", abs(last)) + (last < 0 ? " ms before it)" : " ms after it)")
        }
        if packets.kernelDrops > 0 { line += ", the tap dropped \(packets.kernelDrops)" }
        return line + note
    }

    /// Web servers in two pods, sinks in the internet namespace.
    private func startServices(_ pods: EvalPods) throws {
        let lab = pods.lab
        for pod in [pods.web, pods.victim] {
            try lab.spawnInPod(pod, ["python3", "-m", "http.server", "80", "--bind", pod.ipv4, "--directory", "/var/empty"])
        }
        try lab.spawnInPod(pods.web, ["iperf3", "-s", "-p", "5301"])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "nc -lk -p 9000 > /dev/null"])
        // Port 80 takes connections side by side: a connection the block cut
        // off stays open on this side, and must not keep the next run's from being served.
        try lab.spawn(inNamespace: lab.internetNamespace, ["python3", "-c", Self.sinkServer(port: 80)])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "while true; do nc -l -p 8088 > /dev/null; done"])
        try? FileManager.default.createDirectory(atPath: "/var/empty", withIntermediateDirectories: true)
        usleep(500_000)
    }

    /// A TCP server that reads and discards, one thread per connection; a
    /// connection idle for 30 s is closed.
    static func sinkServer(port: Int) -> String {
        """
        import socketserver
        class Sink(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(30)
                try:
                    while self.request.recv(65536):
                        pass
                except OSError:
                    pass
        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
        Server(("", \(port)), Sink).serve_forever()
        """
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
        try agent.start(extraArguments: ["--api", ""] + options.responses.flatMap { ["--response", $0] })
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

    /// Counts the alerts of one run; returns the first of the expected kind.
    @discardableResult
    private func record(_ alerts: [[String: Any]], into result: inout ScenarioResult) -> [String: Any]? {
        result.runs += 1
        let matching = alerts.filter { $0["kind"] as? String == result.expected }
        let blocked = Set(alerts.flatMap { ($0["actions"] as? [[String: Any]] ?? []).compactMap { $0["remote"] as? String } })
        // Consequences of the response: a quarantined pod's drops, and hits on what the response blocked.
        let followUps = alerts.filter { alert in
            if alert["kind"] as? String == "quarantine_drop" { return true }
            guard alert["kind"] as? String == "blocklist_hit", result.expected != "blocklist_hit",
                  let evidence = alert["evidence"] as? [String: Any] else { return false }
            return blocked.contains(evidence["remote"] as? String ?? "")
        }
        result.followUps += followUps.count
        result.falseAlerts += alerts.count - matching.count - followUps.count
        guard let alert = matching.first else { return nil }
        result.detected += 1
        if let latency = alert["detection_latency_ms"] as? Double { result.detectionMs.append(latency) }
        if let remediation = alert["response_latency_ms"] as? Double { result.remediationMs.append(remediation) }
        return alert
    }
}
