/// What one scenario's repetitions amount to.
public struct ScenarioResult: Codable, Sendable, Equatable {
    public var scenario: String
    /// The alert kind it should raise; nil for a benign scenario.
    public var expected: String?
    public var runs: Int
    public var detected: Int
    /// Alerts of another kind than expected (for a benign scenario: any alert).
    public var falseAlerts: Int
    /// Drops of the attacker's later packets by the response itself (quarantine,
    /// or the destination the alert blocked), reported as blocklist hits.
    public var followUps: Int
    public var detectionMs: [Double]
    public var remediationMs: [Double]
    /// Runs skipped because a tool is missing.
    public var skipped: String?

    enum CodingKeys: String, CodingKey {
        case scenario, expected, runs, detected, skipped
        case falseAlerts = "false_alerts", followUps = "follow_ups", detectionMs = "detection_ms", remediationMs = "remediation_ms"
    }

    public init(scenario: String, expected: String?) {
        self.scenario = scenario
        self.expected = expected
        runs = 0
        detected = 0
        falseAlerts = 0
        followUps = 0
        detectionMs = []
        remediationMs = []
    }

    public var recall: Double? { expected == nil || runs == 0 ? nil : Double(detected) / Double(runs) }
}

public enum EvalStatistics {
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
        func ms(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }
        var lines = ["| scenario | expected | runs | detected | recall | false alerts | follow-ups | detect mean / p50 / p99 ms | remediate mean / p99 ms |",
                     "|---|---|---|---|---|---|---|---|---|"]
        for result in results {
            if let skipped = result.skipped {
                lines.append("| \(result.scenario) | \(result.expected ?? "none") | - | - | - | - | - | skipped: \(skipped) | - |")
                continue
            }
            let recall = result.recall.map { String(format: "%.2f", $0) } ?? "-"
            let detect = "\(ms(mean(result.detectionMs))) / \(ms(percentile(result.detectionMs, 50))) / \(ms(percentile(result.detectionMs, 99)))"
            let remediate = "\(ms(mean(result.remediationMs))) / \(ms(percentile(result.remediationMs, 99)))"
            lines.append("| \(result.scenario) | \(result.expected ?? "none") | \(result.runs) | \(result.detected) | \(recall) | \(result.falseAlerts) | \(result.followUps) | \(detect) | \(remediate) |")
        }
        let precision = precision(results).map { String(format: "%.3f", $0) } ?? "-"
        lines.append("")
        lines.append("Precision over all alerts: \(precision) (follow-ups, the response's own drops reported as blocklist hits, are not counted).")
        return lines.joined(separator: "\n")
    }
}
