/// One alert per (source, process, kind, window). Repeats inside the window are folded into the
/// window's first alert (its count goes up) and reported as updates of it, coalesced: at most
/// one update line per window and `updateIntervalNs`, carrying the repeats since the window's
/// previous line (`newCount`). A pod that keeps knocking for an hour is one alert and a bounded
/// number of lines, not one line per drop. No repeat is dropped: those not yet reported go out
/// with the window's next update (`flush`), also after the window has ended.
///
/// Windows start at the first alert (not on a fixed grid) so a burst is never split in two.
public struct AlertDeduplicator: Sendable {
    private struct Key: Hashable {
        var source: SourceKey
        /// The process a cgroup hook named (its tgid), 0 for what TC saw: a
        /// process reaching for a blocked address is its own incident, not
        /// a repeat of its pod's earlier drops, and its alert names it.
        var process: UInt32
        var kind: AlertKind

        init(_ alert: Alert) {
            (source, process, kind) = (alert.source.key, alert.source.process?.tgid ?? 0, alert.kind)
        }
    }

    private struct Window {
        /// The first alert; `count`, `lastSeenNs` and `actions` accumulate everything since.
        var alert: Alert
        /// When the window's last line (its first alert or an update) was reported.
        var reportedNs: UInt64
        /// Repeats folded in since that line.
        var unreported = 0
        /// When each response released by hand was last requested again: a
        /// burst of repeats decided together (probes timing out in one tick)
        /// asks once, not once each before the first request is in force.
        var reappliedNs: [ResponseAction: UInt64] = [:]
    }

    /// How long a re-requested response is taken as under way.
    public static let reapplyHoldNs: UInt64 = 1_000_000_000

    public let windowNs: UInt64
    public let updateIntervalNs: UInt64
    public let maxWindows: Int
    private var windows: [Key: Window] = [:]
    /// Ended windows replaced by a new one of their key while an update was still due.
    private var closing: [Window] = []
    public private(set) var repeatsFolded = 0
    public private(set) var windowsEvicted = 0
    /// Repeats of windows evicted for room before their update went out.
    public private(set) var repeatsUnreported = 0

    public init(windowNs: UInt64 = 60_000_000_000, updateIntervalNs: UInt64 = 10_000_000_000, maxWindows: Int = 65_536) {
        self.windowNs = windowNs
        self.updateIntervalNs = updateIntervalNs
        self.maxWindows = maxWindows
    }

    public var openWindows: Int { windows.count }

    /// Table bytes only; each open window also holds its alert's strings and arrays.
    var approximateBytes: Int { tableBytes(windows) + closing.count * MemoryLayout<Window>.stride }

    /// Folds `alert` in: itself as the first of a new window (its id re-derived from the window
    /// start), or the window's first alert with the count raised, marked as an update that
    /// carries the repeats not yet reported. Whether an update is reported now is `release`'s call.
    public mutating func submit(_ alert: Alert) -> Alert {
        let key = Key(alert)
        if let index = windows.index(forKey: key) {
            if !ended(windows.values[index], at: alert.timeNs) {
                windows.values[index].alert.count += 1
                windows.values[index].alert.lastSeenNs = max(windows.values[index].alert.lastSeenNs, alert.timeNs)
                windows.values[index].unreported += 1
                repeatsFolded += 1
                return Self.update(windows.values[index])
            }
            if windows.values[index].unreported > 0 { closing.append(windows.values[index]) }
        }
        if windows.count >= maxWindows { makeRoom(now: alert.timeNs) }
        var first = alert
        first.windowStartNs = alert.timeNs
        first.id = AlertID.make(kind: alert.kind, source: key.source, windowStartNs: alert.timeNs)
        first.count = 1
        first.newCount = 1
        first.isUpdate = false
        first.lastSeenNs = alert.timeNs
        first.actions = []
        windows[key] = Window(alert: first, reportedNs: alert.timeNs)
        return first
    }

    /// Of `actions`, those not yet requested in `alert`'s window (remembered from now on);
    /// `[.none]` when nothing is new. Keeps a repeat from re-blocking the same remote while
    /// still blocking a new one. An enforcement requested before that is no longer `inForce`
    /// (released by hand) is requested again: the behaviour it answered goes on.
    public mutating func claim(
        _ actions: [ResponseAction], for alert: Alert,
        inForce: (ResponseAction) -> Bool = { _ in true }
    ) -> [ResponseAction] {
        let key = Key(alert)
        guard let index = windows.index(forKey: key), windows.values[index].alert.id == alert.id else { return actions }
        var fresh: [ResponseAction] = []
        for action in actions where action != .none && !fresh.contains(action) {
            if !windows.values[index].alert.actions.contains(action) {
                windows.values[index].alert.actions.append(action)
                fresh.append(action)
            } else if action.enforces && !inForce(action) {
                let asked = windows.values[index].reappliedNs[action]
                guard asked.map({ alert.lastSeenNs >= $0 &+ Self.reapplyHoldNs }) ?? true else { continue }
                windows.values[index].reappliedNs[action] = alert.lastSeenNs
                fresh.append(action)
            }
        }
        return fresh.isEmpty ? [.none] : fresh
    }

    /// Whether `report` (from `submit`, with its actions claimed) is written now: a first alert
    /// always; an update when it asks for a new response (that cannot wait), or when the window's
    /// last line is `updateIntervalNs` old. nil: it stays folded in, for a later line.
    public mutating func release(_ report: Alert) -> Alert? {
        guard report.isUpdate else { return report }
        let key = Key(report)
        guard let index = windows.index(forKey: key), windows.values[index].alert.id == report.id else { return report }
        let asksForResponse = report.actions.contains { $0 != .none }
        guard asksForResponse || report.lastSeenNs >= windows.values[index].reportedNs &+ updateIntervalNs else { return nil }
        windows.values[index].reportedNs = report.lastSeenNs
        windows.values[index].unreported = 0
        return report
    }

    /// Updates due at `now`: one for every window with unreported repeats whose last line is
    /// `updateIntervalNs` old, ended windows included. Then closes the ended windows with
    /// nothing left to report.
    public mutating func flush(now: UInt64) -> [Alert] {
        let interval = updateIntervalNs
        let due = { (window: Window) in now >= window.reportedNs &+ interval }
        var updates: [Alert] = []
        closing.removeAll { window in
            guard due(window) else { return false }
            updates.append(Self.update(window))
            return true
        }
        for index in windows.indices.filter({ windows.values[$0].unreported > 0 && due(windows.values[$0]) }) {
            updates.append(Self.update(windows.values[index]))
            windows.values[index].reportedNs = now
            windows.values[index].unreported = 0
        }
        if windows.values.contains(where: { closed($0, at: now) }) {
            windows = windows.filter { !closed($0.value, at: now) }
        }
        return updates
    }

    private func closed(_ window: Window, at now: UInt64) -> Bool {
        ended(window, at: now) && window.unreported == 0
    }

    private func ended(_ window: Window, at now: UInt64) -> Bool {
        now >= window.alert.windowStartNs &+ windowNs
    }

    /// The window's alert as an update line; actions are the caller's (`claim`).
    private static func update(_ window: Window) -> Alert {
        var update = window.alert
        update.isUpdate = true
        update.newCount = window.unreported
        update.actions = [.none]
        return update
    }

    /// Closes ended windows with nothing left to report, else evicts the oldest window (a flood
    /// of distinct sources); its unreported repeats are counted, not written.
    private mutating func makeRoom(now: UInt64) {
        windows = windows.filter { !closed($0.value, at: now) }
        guard windows.count >= maxWindows,
            let oldest = windows.min(by: { $0.value.alert.windowStartNs < $1.value.alert.windowStartNs })?.key,
            let evicted = windows.removeValue(forKey: oldest)
        else { return }
        repeatsUnreported += evicted.unreported
        windowsEvicted += 1
    }
}
