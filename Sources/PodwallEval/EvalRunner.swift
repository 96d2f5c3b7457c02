import Foundation
import PodwallCore
import PodwallKernel
import PodwallLab

/// `podwall eval`: every scenario N times in a lab, optionally with
/// background load, against one agent for the whole run (`shared`: a day on
/// a node, responses undone through the CLI between scenarios, alerts
/// attributed by time) or a freshly started agent for every run (`fresh`: no
/// detector state or dedup window carries over).
public struct EvalRunner {
    public enum AgentMode: String, Sendable, Codable, CaseIterable {
        case shared, fresh
    }

    public struct Options: Sendable {
        public var repetitions = 5
        public var backgroundLoad = false
        public var agentMode = AgentMode.shared
        /// Only scenarios whose name contains one of these (case-insensitive).
        public var only: [String] = []
        /// `--response kind=action` for the agent (a control run with responses off).
        public var responses: [String] = []
        /// `--set key=value` for the agent (a detector setting under test).
        public var settings: [String] = []
        public var binary: String

        public init(binary: String) { self.binary = binary }
    }

    /// What a whole run amounts to.
    public struct Report: Sendable {
        public var results: [ScenarioResult]
        public var alertsFile: AlertsFileSummary
        /// Datagrams of the attacker's UDP flood that reached the bystander (nil: none flooded).
        public var floodDatagrams: Int?
    }

    /// The agent's `alerts.update_interval`, which the evaluation leaves at its default.
    static let updateIntervalNs: Int64 = 10_000_000_000
    /// Between scenarios of a shared agent: longer than any detector takes to
    /// decide after the traffic (the scan detector fails an unanswered probe
    /// after 3 s), so what is decided after it is the next scenario's.
    static let settleSeconds = 3.5
    /// The agent's `processes.learning_seconds` for the baseline and file
    /// scenarios, each in a new workload (0 for every other: one container plays them all, so a binary first
    /// run after its window would be reported in whichever scenario came then).
    public static let learningSeconds = 5.0

    let options: Options
    let progress: @Sendable (String) -> Void

    public init(options: Options, progress: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.progress = progress
    }

    /// `labReady` gets the lab as soon as it exists (to remove it on Ctrl-C).
    public func run(labReady: (Lab) -> Void = { _ in }) throws -> Report {
        let lab = try Lab(pods: 5)
        defer { lab.teardown() }
        labReady(lab)
        try lab.addInternet()
        progress("lab \(lab.id): \(lab.pods.count) pods and an internet; removed at the end")
        let scenarios = EvalScenario.all.filter { scenario in
            options.only.isEmpty || options.only.contains { scenario.name.lowercased().contains($0.lowercased()) }
        }
        var results = scenarios.map { scenario in
            var result = ScenarioResult(scenario: scenario.name, expected: scenario.expected, group: scenario.group)
            result.response = scenario.measured?.response
            result.skipped = scenario.tools.first { !Shell.isInstalled($0) }.map { "\($0) is not installed" }
            return result
        }
        let flooding = options.backgroundLoad && Shell.isInstalled("python3")
        // A container in the attacker pod, only for process scenarios that will play.
        let needsApp = zip(scenarios, results).contains { $0.inContainer && $0.inNewWorkload == nil && $1.skipped == nil }
        let app = needsApp ? try ProcessServices.start(lab, in: lab.pods[0]) : nil
        let pods = EvalPods(lab: lab, attackerFloods: flooding, app: app)
        try EvalServices.start(pods)
        if options.backgroundLoad { try EvalServices.startLoad(pods) }
        let floodBefore = EvalServices.floodReceived(pods)
        let agent = LabAgent(lab: lab, binary: options.binary)
        defer {
            agent.stop()
            agent.removeFiles()
        }
        var session = try Session(runner: self, pods: pods, agent: agent)
        // Shared: round after round of the whole matrix, as a day goes; fresh:
        // each scenario N times. The scenarios in a new workload (baseline,
        // file) need the learning window on, which every other scenario needs off: with a shared
        // agent they play last, in rounds of their own, against the agent
        // started again with the window (one agent for all their runs).
        let ordinary = scenarios.indices.filter { scenarios[$0].inNewWorkload == nil && results[$0].skipped == nil }
        let learning = scenarios.indices.filter { scenarios[$0].inNewWorkload != nil && results[$0].skipped == nil }
        if options.agentMode == .shared {
            for (phase, indices) in [(false, ordinary), (true, learning)] where !indices.isEmpty {
                agent.stop()
                try session.startAgent(learning: phase)
                for repetition in 1...options.repetitions {
                    for index in indices { try session.play(scenarios[index], repetition: repetition, into: &results[index]) }
                }
            }
        } else {
            for index in ordinary + learning {
                for repetition in 1...options.repetitions {
                    try session.play(scenarios[index], repetition: repetition, into: &results[index])
                }
            }
        }
        agent.stop()
        session.tail.refresh()
        let floodAfter = EvalServices.floodReceived(pods)
        return Report(
            results: results, alertsFile: AlertsFileSummary(session.tail.lines, updateIntervalNs: Self.updateIntervalNs),
            floodDatagrams: floodBefore.flatMap { before in floodAfter.map { $0 - before } }.flatMap { $0 > 0 ? $0 : nil })
    }

    /// Reading CLOCK_REALTIME and CLOCK_MONOTONIC one after the other (for
    /// the offset) takes well under this.
    static let clockReadAllowanceNs: Int64 = 1_000
}

/// One agent's alerts file and the runs played against it.
private struct Session {
    let runner: EvalRunner
    let pods: EvalPods
    let agent: LabAgent
    let tail: AlertsTail
    let undo: ResponseUndo
    let tcpdump = Shell.isInstalled("tcpdump")
    /// Scans the attacker played against this agent (the progress line says which this is).
    var scans = 0
    /// Runs played, which name their captures.
    var runs = 0
    var options: EvalRunner.Options { runner.options }

    init(runner: EvalRunner, pods: EvalPods, agent: LabAgent) throws {
        self.runner = runner
        self.pods = pods
        self.agent = agent
        tail = AlertsTail(path: agent.alertsFile)
        undo = try ResponseUndo(agent: agent, throughAgent: runner.options.agentMode == .shared)
    }

    /// The agent (the CLI's writes go through its local socket; no TCP API).
    /// The learning window is off except for the scenarios in a new workload: one
    /// container plays every other scenario, so a binary first run after its
    /// window would be reported in whichever scenario came then.
    func startAgent(learning: Bool) throws {
        let seconds = learning ? EvalRunner.learningSeconds : 0
        try agent.start(
            extraArguments: ["--api", "", "--set", "processes.learning_seconds=\(seconds)"]
                + options.responses.flatMap { ["--response", $0] } + options.settings.flatMap { ["--set", $0] })
    }

    mutating func play(_ scenario: EvalScenario, repetition: Int, into result: inout ScenarioResult) throws {
        let shared = options.agentMode == .shared
        runs += 1
        // The alert's time is the agent's CLOCK_MONOTONIC shifted by its
        // CLOCK_REALTIME offset; the tap stamps CLOCK_REALTIME. Any change of
        // that offset over the run (NTP) is allowed for when counting.
        let offsetBefore = MonotonicClock.wallClockOffset()
        if shared {
            if scenario.expected == "blocklist_hit" { try undo.podwall(["blocklist", "add", EvalPods.blockedAddress, "--ttl", "10m"]) }
        } else {
            try reset(scenario)
        }
        let receiver = scenario.measured.map { Receiver.of($0.target, pods) }
        var tap: Result<ReceiverTap, Error>?
        if let receiver {
            tap =
                tcpdump
                ? Result { try ReceiverTap(lab: pods.lab, receiver: receiver, name: "run-\(runs)") }
                : .failure(ReceiverTap.Failure(description: "tcpdump is not installed"))
        }
        let mark = tail.refresh()
        _ = pods.exchanges.take()
        _ = pods.notes.take()
        let connectionsBefore = scenario.inContainer ? ProcessServices.connections(pods.lab) : 0
        let startNs = Self.nowNs()
        var workload: BaselineWorkload?
        if let play = scenario.inNewWorkload {
            let started = try startWorkload(root: scenario.workloadRoot)
            workload = started
            try play(pods, started)
        } else {
            try scenario.play(pods)
        }
        defer { if let workload { pods.lab.removeContainer(workload.container) } }
        let played = Date()
        if scenario.expected == "port_scan" { scans += 1 }
        waitForDetection(scenario, mark: mark, startNs: startNs, attackerPod: workload?.podName)
        // A second after the attack for retransmissions of what was dropped.
        if tap != nil, case let rest = 1 - Date().timeIntervalSince(played), rest > 0 { usleep(useconds_t(rest * 1_000_000)) }
        let capture = tap.map { tap in Result { try tap.get().finish() } }
        let drift = abs(MonotonicClock.wallClockOffset() - offsetBefore)
        var undone: [String] = []
        if shared {
            tail.refresh()
            undone = try undo.undo(Array(tail.lines[mark...]))
            usleep(useconds_t(EvalRunner.settleSeconds * 1_000_000))
            tail.refresh()
            // A response the agent took again meanwhile (the behaviour went on).
            let again = try undo.undo([])
            undone += again.map { $0 + " (again)" }
        }
        let lines = Array(tail.lines[mark...])
        let verdict = Attribution.attribute(
            lines, startNs: startNs, expected: scenario.expected, attacker: pods.attacker.ipv4, accepted: scenario.accepted,
            attackerPod: workload?.podName, expectedBinary: scenario.expectedBinary, loadAlerts: loadAlerts)
        let firstPacket = (try? capture?.get())?.frames.map(\.timeNs).min() ?? startNs
        let detection = result.record(lines, verdict, firstPacketNs: firstPacket)
        result.exchanges += pods.exchanges.take()
        if workload != nil { result.recordBaseline(verdict) }
        if let workload, scenario.group == .file {
            let markers = scenario.countsMarkers ? ProcessServices.takeMarkers(workload.container) : nil
            result.recordProcesses(lines, verdict, markers: markers)
        }
        if scenario.inContainer, let app = pods.app {
            // After the settle time: a shell that survived had seconds to run its command.
            result.recordProcesses(lines, verdict, markers: ProcessServices.takeMarkers(app))
            result.listenerConnections = (result.listenerConnections ?? []) + [ProcessServices.connections(pods.lab) - connectionsBefore]
        }
        var line = "\(scenario.name) \(repetition)/\(options.repetitions): "
        if shared && scenario.expected == "port_scan" { line += "the attacker's scan #\(scans); " }
        line += Self.describe(lines, verdict)
        if let detection {
            line += String(format: "; decided %.1f ms after the first packet", Double(detection.occurrenceNs - firstPacket) / 1e6)
            if let remediation = detection.responseLatencyMs { line += String(format: ", in force %.1f ms later", remediation) }
        }
        if let capture, let response = scenario.measured?.response, let receiver {
            line +=
                "; "
                + runner.measure(
                    capture, response: response, receiver: receiver, detection: detection,
                    clockUncertaintyNs: drift + EvalRunner.clockReadAllowanceNs, repetition: repetition, into: &result)
        }
        if let workload {
            let named = lines.filter { $0.podName == workload.podName && !$0.isUpdate }.map {
                "\($0.kind)" + ($0.technique.map { " (\($0))" } ?? "") + " \($0.binary ?? "?")"
            }
            line += "; workload \(workload.podName): " + (named.isEmpty ? "nothing reported" : named.joined(separator: ", "))
        }
        if scenario.inContainer || scenario.group == .file {
            line += "; " + Self.describeKill(lines, verdict)
            if let markers = result.markerFiles.last { line += ", \(markers) marker files" }
            if let connections = result.listenerConnections?.last { line += ", \(connections) connections to the listener" }
        }
        if !undone.isEmpty { line += "; undone: " + undone.joined(separator: ", ") }
        let notes = pods.notes.take()
        if !notes.isEmpty { line += "; " + notes.joined(separator: "; ") }
        runner.progress(line)
    }

    /// This run's new workload. A `runc run` that fails is said on the
    /// progress line (with runc's log) and tried once more, as a pod of another name.
    private func startWorkload(root: ContainerRoot) throws -> BaselineWorkload {
        do {
            return try ProcessServices.startWorkload(pods.lab, podName: "baseline\(runs)", root: root)
        } catch {
            pods.notes.add("the workload's container failed to start, started again as another pod: \(error)")
            return try ProcessServices.startWorkload(pods.lab, podName: "baseline\(runs)-again", root: root)
        }
    }

    /// "port_scan (update, re-applied), quarantine_drop" and the uncounted rest.
    private static func describe(_ lines: [AlertLine], _ verdict: Attribution.Verdict) -> String {
        var parts: [String] = []
        for (line, role) in zip(lines, verdict.roles) where role != .earlier && role != .repeats {
            var part = line.kind
            if role == .falseAlert { part += " (false)" }
            if role == .accepted { part += " (by design)" }
            if role == .detection && line.isUpdate { part += line.enforced ? " (update, response re-applied)" : " (update)" }
            if !parts.contains(part) { parts.append(part) }
        }
        var text = parts.isEmpty ? "no alert" : parts.joined(separator: ", ")
        if verdict.earlierLines > 0 { text += " (+\(verdict.earlierLines) late lines of earlier incidents)" }
        return text
    }

    /// "killed in the kernel", "relay killed in the kernel at its connect", "killed by the agent" or "not killed".
    private static func describeKill(_ lines: [AlertLine], _ verdict: Attribution.Verdict) -> String {
        let own = zip(lines, verdict.roles).filter { $0.1 == .detection || $0.1 == .repeats }.map(\.0)
        let kills = own.compactMap(\.killedAtExec)
        if kills.contains(true) { return "killed in the kernel" }
        if own.contains(where: \.relayKilled) { return "relay killed in the kernel at its connect" }
        return kills.contains(false) ? "killed by the agent" : "not killed"
    }

    /// Under `--load`, the attacker pod's `flood` alerts: its own
    /// 5,000-a-second new-flow flood is the load, and reporting it is the
    /// flood detector's job, not a false alert of whichever scenario (or
    /// workload pod) plays meanwhile.
    private var loadAlerts: [String: String] { pods.attackerFloods ? ["flood": pods.attacker.hostInterface] : [:] }

    /// Until the detecting line is written (8 s at most), and 300 ms more for
    /// the alerts that come with it; for a benign scenario, 1.5 s.
    private func waitForDetection(_ scenario: EvalScenario, mark: Int, startNs: Int64, attackerPod: String?) {
        let deadline = Date().addingTimeInterval(scenario.expected == nil ? 1.5 : 8)
        while Date() < deadline {
            if scenario.expected != nil {
                tail.refresh()
                let verdict = Attribution.attribute(
                    Array(tail.lines[mark...]), startNs: startNs, expected: scenario.expected,
                    attacker: pods.attacker.ipv4, accepted: scenario.accepted, attackerPod: attackerPod,
                    expectedBinary: scenario.expectedBinary, loadAlerts: loadAlerts)
                if verdict.detection != nil { break }
            }
            usleep(100_000)
        }
        if scenario.expected != nil { usleep(300_000) }
        // What came with the detection, and all of a benign run's lines (the
        // loop reads none for those): with a fresh agent nothing else reads
        // the file before the run is counted.
        tail.refresh()
    }

    /// Fresh mode: no quarantine, no dynamic block, a new agent; the blocklist scenario's entry only for it.
    private func reset(_ scenario: EvalScenario) throws {
        agent.stop()
        let state = PinnedState(pinRoot: pods.lab.pinRoot)
        if state.isInstalled {
            let quarantine = try state.quarantine()
            for key in quarantine.interfaces() { try quarantine.release(key) }
            let blocklist = try state.blocklist()
            for (prefix, entry) in blocklist.entries() where entry.isDynamic { _ = try blocklist.removeDynamic(prefix) }
        }
        if scenario.expected == "blocklist_hit" {
            try agent.podwall(["blocklist", "add", EvalPods.blockedAddress, "--ttl", "10m"])
        }
        try startAgent(learning: scenario.inNewWorkload != nil)
    }

    static func nowNs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

extension EvalRunner {
    /// Counts, from the tap's capture, the attacker's packets that got
    /// through after the response; returns the progress line's part.
    fileprivate func measure(
        _ capture: Result<ReceiverTap.Capture, Error>, response: Delivery.Response, receiver: Receiver,
        detection: AlertLine?, clockUncertaintyNs: Int64, repetition: Int, into result: inout ScenarioResult
    ) -> String {
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
        } else if let detection {
            let time = Delivery.inForce(detection)
            inForce = time.ns
            if !time.enforced {
                note =
                    detection.isUpdate
                    ? ", an update that enforced nothing new: counted from its decision"
                    : ", the alert enforced nothing: counted from the decision"
            }
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
}
