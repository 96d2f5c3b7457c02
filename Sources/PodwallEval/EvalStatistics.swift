/// What one scenario's repetitions amount to.
public struct ScenarioResult: Codable, Sendable, Equatable {
    public var scenario: String
    /// The alert kind it should raise; nil for a benign scenario.
    public var expected: String?
    /// Which table reports it (nil in files written before 2026-12-05's file scenarios).
    public var group: EvalScenario.Group?
    public var runs: Int
    public var detected: Int
    /// Alerts of another kind than expected (for a benign scenario: any alert).
    public var falseAlerts: Int
    /// Drops of the attacker's later packets by the response itself (quarantine,
    /// or the destination the alert blocked), reported as blocklist hits.
    public var followUps: Int
    public var detectionMs: [Double]
    public var remediationMs: [Double]
    /// How the response acts on the attacker's traffic (nil: no response to measure).
    public var response: Delivery.Response?
    /// Per measured repetition: the attacker's packets that arrived at the
    /// target after the response was in force, counted at the target by a
    /// tap independent of podwall (`Delivery.outcome`).
    public var deliveredAfterResponse: [Int]
    /// Per measured repetition: the attacker's packets that arrived at the target at all.
    public var receivedFromAttacker: [Int]
    /// Per measured repetition: the last packet's arrival minus the moment the
    /// response was in force, ms (negative: before it); nil when nothing arrived.
    public var lastArrivalMs: [Double?]
    /// Repetitions that could not be measured, and why (no detection, the tap failed).
    public var unmeasured: [String]
    /// Packets the tap's kernel ring dropped over all repetitions (the counts are then lower bounds).
    public var tapDrops: Int
    /// The largest allowance for the two clocks disagreeing, µs.
    public var clockUncertaintyMaxUs: Double?
    /// Runs skipped because a tool is missing.
    public var skipped: String?
    /// Detections that were an update of an alert of an earlier scenario: the
    /// same pod doing it again inside the agent's dedup window (shared agent).
    public var detectedAsUpdate: Int
    /// Per detection: from the scenario's first packet at the target (the tap's
    /// first arrival; without a tap, the scenario's start) to the detecting
    /// line's decision, ms.
    public var firstPacketToDecisionMs: [Double]
    /// Lines of earlier incidents written during this scenario (late updates), not counted.
    public var earlierLines: Int
    /// HTTP exchanges completed (a reply came back), for the scenarios that count them.
    public var exchanges: Int
    /// Alerts of a kind the scenario raises by design besides the expected
    /// one (`EvalScenario.accepted`), distinct ids; not false alerts.
    public var acceptedAlerts: Int
    /// Process scenarios: runs in which the kernel killed the program (at
    /// its exec or its dup onto stdio, before it ran a command), and runs in
    /// which only the agent did (by pid, after the event reached it).
    public var killedAtExec: Int
    public var killedByAgent: Int
    /// Process scenarios: runs in which the kernel killed a relayed shell's
    /// relay at its connect()'s entry (the shell then reads EOF), and no
    /// line of the run reports a kill at exec.
    public var relayKilledAtConnect: Int
    /// Per run the agent killed: from the kernel event that decided (the
    /// shell's exec or its relay's connect) to the kill done, ms (the
    /// alert's detection plus response latency; an upper bound).
    public var agentKillMs: [Double]
    /// Process scenarios: marker files found after each run, each a shell
    /// that ran the attacker's first command; file scenarios that count
    /// them: each an attack's step after the syscall or exec that should
    /// have been killed (empty for other scenarios).
    public var markerFiles: [Int]
    /// Baseline scenarios: per run, the distinct alerts of the expected kind
    /// from the run's workload, whatever binary they name (nil for other
    /// scenarios; for `unexpected-binary` exactly 1 is right).
    public var expectedKindAlerts: [Int]?
    /// Process scenarios: per run, the connections the attacker's listener
    /// accepted (0: the shell never reached it; nil in older files).
    public var listenerConnections: [Int]?

    enum CodingKeys: String, CodingKey {
        case scenario, expected, group, runs, detected, skipped, response, unmeasured
        case falseAlerts = "false_alerts", followUps = "follow_ups", detectionMs = "detection_ms", remediationMs = "remediation_ms"
        case deliveredAfterResponse = "delivered_after_response", receivedFromAttacker = "received_from_attacker"
        case lastArrivalMs = "last_arrival_after_response_ms", tapDrops = "tap_drops", clockUncertaintyMaxUs = "clock_uncertainty_max_us"
        case detectedAsUpdate = "detected_as_update", firstPacketToDecisionMs = "first_packet_to_decision_ms"
        case earlierLines = "earlier_lines", exchanges
        case acceptedAlerts = "accepted_alerts", killedAtExec = "killed_at_exec", killedByAgent = "killed_by_agent"
        case relayKilledAtConnect = "relay_killed_at_connect"
        case agentKillMs = "agent_kill_ms", markerFiles = "marker_files", expectedKindAlerts = "expected_kind_alerts"
        case listenerConnections = "listener_connections"
    }

    public init(scenario: String, expected: String?, group: EvalScenario.Group = .network) {
        self.scenario = scenario
        self.expected = expected
        self.group = group
        runs = 0
        detected = 0
        falseAlerts = 0
        followUps = 0
        detectionMs = []
        remediationMs = []
        deliveredAfterResponse = []
        receivedFromAttacker = []
        lastArrivalMs = []
        unmeasured = []
        tapDrops = 0
        detectedAsUpdate = 0
        firstPacketToDecisionMs = []
        earlierLines = 0
        exchanges = 0
        acceptedAlerts = 0
        killedAtExec = 0
        killedByAgent = 0
        relayKilledAtConnect = 0
        agentKillMs = []
        markerFiles = []
    }

    public var recall: Double? { expected == nil || runs == 0 ? nil : Double(detected) / Double(runs) }

    /// Counts one run's alerts as `Attribution` sorted them; returns the detecting line.
    @discardableResult
    public mutating func record(_ lines: [AlertLine], _ verdict: Attribution.Verdict, firstPacketNs: Int64) -> AlertLine? {
        runs += 1
        followUps += verdict.followUps
        falseAlerts += verdict.falseAlerts
        acceptedAlerts += verdict.acceptedAlerts
        earlierLines += verdict.earlierLines
        guard let index = verdict.detection else { return nil }
        let line = lines[index]
        detected += 1
        if line.isUpdate {
            detectedAsUpdate += 1
        } else {
            // The alert's own latencies; an update carries its first line's.
            if let latency = line.detectionLatencyMs { detectionMs.append(latency) }
            if let remediation = line.responseLatencyMs { remediationMs.append(remediation) }
        }
        firstPacketToDecisionMs.append(Double(line.occurrenceNs - firstPacketNs) / 1e6)
        return line
    }

    /// Counts a process or file scenario's run: the kills its own lines
    /// report (the kernel's first, else the agent's) and the marker files
    /// found (nil: the scenario counts none).
    public mutating func recordProcesses(_ lines: [AlertLine], _ verdict: Attribution.Verdict, markers: Int?) {
        if let markers { markerFiles.append(markers) }
        let own = zip(lines, verdict.roles).filter { $0.1 == .detection || $0.1 == .repeats }.map(\.0)
        if own.contains(where: { $0.killedAtExec == true }) {
            killedAtExec += 1
        } else if own.contains(where: \.relayKilled) {
            relayKilledAtConnect += 1
        } else if let killed = own.first(where: { $0.killedAtExec == false }) {
            killedByAgent += 1
            if let detection = killed.detectionLatencyMs, let response = killed.responseLatencyMs {
                agentKillMs.append(detection + response)
            }
        }
    }

    /// Counts a baseline scenario's run.
    public mutating func recordBaseline(_ verdict: Attribution.Verdict) {
        expectedKindAlerts = (expectedKindAlerts ?? []) + [verdict.expectedKindAlerts]
    }

    /// Records one measured repetition.
    public mutating func record(_ outcome: Delivery.Outcome, tapDrops drops: Int, clockUncertaintyNs: Int64) {
        deliveredAfterResponse.append(outcome.afterResponse)
        receivedFromAttacker.append(outcome.received)
        lastArrivalMs.append(outcome.lastArrivalMs)
        tapDrops += drops
        clockUncertaintyMaxUs = max(clockUncertaintyMaxUs ?? 0, Double(clockUncertaintyNs) / 1000)
    }

    /// The table's cell: packets after the response / packets received, over
    /// the measured repetitions; "-" when the scenario has no response.
    public var deliveryCell: String {
        guard response != nil else { return "-" }
        guard !deliveredAfterResponse.isEmpty else { return runs == 0 ? "-" : "not measured" }
        var cell = "\(deliveredAfterResponse.reduce(0, +)) / \(receivedFromAttacker.reduce(0, +))"
        if deliveredAfterResponse.count < runs { cell += " (\(deliveredAfterResponse.count) of \(runs) runs)" }
        if tapDrops > 0 { cell += " (tap dropped \(tapDrops))" }
        return cell
    }
}

public enum EvalStatistics {
    static func ms(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }

    /// "p50 / p99 / max" of latencies in ms, as the process tables show them.
    static func latencyCell(_ values: [Double]) -> String {
        "\(ms(percentile(values, 50))) / \(ms(percentile(values, 99))) / \(ms(values.max()))"
    }

    /// The nearest-rank percentile (0...100) of `values`; nil when empty.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Alerts of the expected kind over all alerts raised, across scenarios.
    public static func precision(_ results: [ScenarioResult]) -> Double? {
        let correct = results.reduce(0) { $0 + $1.detected }
        let wrong = results.reduce(0) { $0 + $1.falseAlerts }
        return correct + wrong == 0 ? nil : Double(correct) / Double(correct + wrong)
    }

    /// A Markdown table, one row per scenario.
    public static func table(_ results: [ScenarioResult]) -> String {
        var lines = [
            "| scenario | expected | runs | detected | recall | false alerts | follow-ups | delivered after response / received "
                + "| detect mean / p50 / p99 ms | remediate mean / p99 ms | as update | first packet → decision p50 / p99 ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"
        ]
        for result in results {
            if let skipped = result.skipped {
                lines.append(
                    "| \(result.scenario) | \(result.expected ?? "none") | - | - | - | - | - | - | skipped: \(skipped) | - | - | - |")
                continue
            }
            let recall = result.recall.map { String(format: "%.2f", $0) } ?? "-"
            let detect =
                "\(ms(mean(result.detectionMs))) / \(ms(percentile(result.detectionMs, 50))) / \(ms(percentile(result.detectionMs, 99)))"
            let remediate = "\(ms(mean(result.remediationMs))) / \(ms(percentile(result.remediationMs, 99)))"
            let fromFirst = "\(ms(percentile(result.firstPacketToDecisionMs, 50))) / \(ms(percentile(result.firstPacketToDecisionMs, 99)))"
            let asUpdate = result.expected == nil ? "-" : String(result.detectedAsUpdate)
            lines.append(
                "| \(result.scenario) | \(result.expected ?? "none") | \(result.runs) | \(result.detected) | \(recall) | \(result.falseAlerts) | \(result.followUps) | \(result.deliveryCell) | \(detect) | \(remediate) | \(asUpdate) | \(fromFirst) |"
            )
        }
        let precision = precision(results).map { String(format: "%.3f", $0) } ?? "-"
        lines.append("")
        lines.append(
            "Precision over all alerts: \(precision) (follow-ups, the response's own drops reported as blocklist hits, are not counted).")
        let measured = results.filter { !$0.deliveredAfterResponse.isEmpty }
        if !measured.isEmpty {
            let after = measured.reduce(0) { $0 + $1.deliveredAfterResponse.reduce(0, +) }
            let runs = measured.reduce(0) { $0 + $1.deliveredAfterResponse.count }
            let uncertainty = measured.compactMap(\.clockUncertaintyMaxUs).max() ?? 0
            lines.append(
                "After response: \(after) of the attacker's packets arrived at the target after the response was in force, "
                    + "over \(runs) measured runs (counted at the target; quarantine: new flows only; clock allowance ≤ "
                    + String(format: "%.1f", uncertainty) + " µs).")
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table of the process scenarios that ran; empty when none did.
    public static func processTable(_ results: [ScenarioResult]) -> String {
        let played = results.filter { $0.group == .process && $0.runs > 0 }
        guard !played.isEmpty else { return "" }
        var lines = [
            "| scenario | expected | runs | detected | recall | false alerts | accepted alerts | exec → alert p50 / p99 / max ms "
                + "| killed in the kernel | relay killed at connect | killed by the agent | agent kill p50 / max ms | marker files |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        ]
        for result in played {
            let recall = result.recall.map { String(format: "%.2f", $0) } ?? "-"
            let alert = latencyCell(result.detectionMs)
            let kill = "\(ms(percentile(result.agentKillMs, 50))) / \(ms(result.agentKillMs.max()))"
            lines.append(
                "| \(result.scenario) | \(result.expected ?? "none") | \(result.runs) | \(result.detected) | \(recall) | \(result.falseAlerts) | \(result.acceptedAlerts) | \(alert) | \(result.killedAtExec) | \(result.relayKilledAtConnect) | \(result.killedByAgent) | \(kill) | \(result.markerFiles.reduce(0, +)) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table of the baseline scenarios (a new workload each run);
    /// empty when none ran.
    public static func baselineTable(_ results: [ScenarioResult]) -> String {
        let played = results.filter { $0.group == .baseline && $0.runs > 0 }
        guard !played.isEmpty else { return "" }
        var lines = [
            "| scenario | expected | runs | detected | recall | false alerts | runs with exactly 1 alert of the expected kind "
                + "| exec → alert p50 / p99 / max ms |",
            "|---|---|---|---|---|---|---|---|"
        ]
        for result in played {
            let recall = result.recall.map { String(format: "%.2f", $0) } ?? "-"
            let alert = latencyCell(result.detectionMs)
            lines.append(
                "| \(result.scenario) | \(result.expected ?? "none") | \(result.runs) | \(result.detected) | \(recall) | \(result.falseAlerts) | \(result.exactlyOneCell) | \(alert) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table of the file scenarios (a new workload each run);
    /// empty when none ran.
    public static func fileTable(_ results: [ScenarioResult]) -> String {
        let played = results.filter { $0.group == .file && $0.runs > 0 }
        guard !played.isEmpty else { return "" }
        var lines = [
            "| scenario | expected | runs | detected | recall | false alerts | accepted alerts "
                + "| runs with exactly 1 alert of the expected kind | event → alert p50 / p99 / max ms | killed in the kernel "
                + "| killed by the agent | marker files |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"
        ]
        for result in played {
            let recall = result.recall.map { String(format: "%.2f", $0) } ?? "-"
            let markers = result.markerFiles.isEmpty ? "-" : String(result.markerFiles.reduce(0, +))
            lines.append(
                "| \(result.scenario) | \(result.expected ?? "none") | \(result.runs) | \(result.detected) | \(recall) | \(result.falseAlerts) | \(result.acceptedAlerts) | \(result.exactlyOneCell) | \(latencyCell(result.detectionMs)) | \(result.killedAtExec) | \(result.killedByAgent) | \(markers) |"
            )
        }
        return lines.joined(separator: "\n")
    }
}

extension ScenarioResult {
    /// "n of runs": the runs with exactly one alert of the expected kind
    /// from the workload; "-" for a benign scenario.
    var exactlyOneCell: String {
        let alerts = expectedKindAlerts ?? []
        return expected == nil ? "-" : "\(alerts.count { $0 == 1 }) of \(alerts.count)"
    }
}
