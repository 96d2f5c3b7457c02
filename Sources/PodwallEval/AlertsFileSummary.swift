/// How many lines the alerts file took for how many alerts, against the
/// agent's bound: an alert's updates are coalesced, at most one line per
/// `alerts.update_interval`, except an update that asks for a response
/// again (a released quarantine or block), which goes out at once.
public struct AlertsFileSummary: Codable, Sendable, Equatable {
    public var lines: Int
    /// Distinct alerts (ids).
    public var alerts: Int
    public var updates: Int
    /// Updates written at once because they re-applied a response.
    public var responseUpdates: Int
    /// The most lines one alert took.
    public var maxLinesPerAlert: Int
    /// Alerts with more coalesced updates than their lifetime allows (see `allowedUpdates`).
    public var overBound: [String]
    public var updateIntervalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case lines, alerts, updates
        case responseUpdates = "response_updates", maxLinesPerAlert = "max_lines_per_alert", overBound = "over_bound"
        case updateIntervalSeconds = "update_interval_seconds"
    }

    /// Coalesced updates an alert may have: one per update interval from its
    /// first line to its newest repeat, plus the one that flushes what came
    /// after the last of them.
    public static func allowedUpdates(spanNs: Int64, intervalNs: Int64) -> Int {
        Int((max(0, spanNs) + intervalNs - 1) / intervalNs) + 1
    }

    public init(_ all: [AlertLine], updateIntervalNs: Int64) {
        lines = all.count
        updateIntervalSeconds = Double(updateIntervalNs) / 1e9
        var byID: [String: [AlertLine]] = [:]
        var order: [String] = []
        for line in all {
            if byID[line.id] == nil { order.append(line.id) }
            byID[line.id, default: []].append(line)
        }
        alerts = byID.count
        updates = all.count { $0.isUpdate }
        responseUpdates = all.count { $0.isUpdate && $0.enforced }
        maxLinesPerAlert = byID.values.map(\.count).max() ?? 0
        overBound = order.filter { id in
            let lines = byID[id]!
            let start = lines.map(\.timeNs).min()!, newest = lines.map(\.lastSeenNs).max()!
            let coalesced = lines.count { $0.isUpdate && !$0.enforced }
            return coalesced > Self.allowedUpdates(spanNs: newest - start, intervalNs: updateIntervalNs)
        }
    }

    /// One sentence for the report.
    public var sentence: String {
        let perAlert = alerts == 0 ? "-" : String(format: "%.2f", Double(lines) / Double(alerts))
        var text =
            "Alerts file: \(lines) lines for \(alerts) alerts (\(perAlert) lines per alert, at most \(maxLinesPerAlert) for one); "
            + "\(updates) updates, \(responseUpdates) of them re-applying a released response (written at once); "
        text +=
            overBound.isEmpty
            ? "every alert within 1 coalesced update per \(formatted(updateIntervalSeconds)) s update interval."
            : "\(overBound.count) alerts above 1 coalesced update per \(formatted(updateIntervalSeconds)) s: \(overBound.prefix(5).joined(separator: ", "))."
        return text
    }

    private func formatted(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}
