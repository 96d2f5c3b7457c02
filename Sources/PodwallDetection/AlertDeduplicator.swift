/// One alert per (source, kind, window). Repeats inside the window are folded into the
/// window's first alert (its count goes up) and handed back as updates, never dropped, so
/// the caller can count and forward them.
///
/// Windows start at the first alert (not on a fixed grid) so a burst is never split in two.
public struct AlertDeduplicator: Sendable {
    private struct Key: Hashable {
        var source: SourceKey
        var kind: AlertKind
    }

    public let windowNs: UInt64
    public let maxWindows: Int
    /// The first alert of each open window; its `actions` accumulate everything requested.
    private var windows: [Key: Alert] = [:]
    public private(set) var repeatsFolded = 0
    public private(set) var windowsEvicted = 0

    public init(windowNs: UInt64 = 60_000_000_000, maxWindows: Int = 65_536) {
        self.windowNs = windowNs
        self.maxWindows = maxWindows
    }

    public var openWindows: Int { windows.count }

    /// Table bytes only; each open window also holds its alert's strings and arrays.
    var approximateBytes: Int { tableBytes(windows) }

    /// What to report for `alert`: itself as the first of a new window (its id re-derived from
    /// the window start), or the window's first alert with the count raised, marked as an update.
    public mutating func submit(_ alert: Alert) -> Alert {
        let key = Key(source: alert.source.key, kind: alert.kind)
        if let index = windows.index(forKey: key), alert.timeNs < windows.values[index].windowStartNs &+ windowNs {
            windows.values[index].count += 1
            windows.values[index].lastSeenNs = max(windows.values[index].lastSeenNs, alert.timeNs)
            repeatsFolded += 1
            var update = windows.values[index]
            update.isUpdate = true
            return update
        }
        if windows.count >= maxWindows { makeRoom(now: alert.timeNs) }
        var first = alert
        first.windowStartNs = alert.timeNs
        first.id = AlertID.make(kind: alert.kind, source: key.source, windowStartNs: alert.timeNs)
        first.count = 1
        first.isUpdate = false
        first.lastSeenNs = alert.timeNs
        first.actions = []
        windows[key] = first
        return first
    }

    /// Of `actions`, those not yet requested in `alert`'s window (remembered from now on);
    /// `[.none]` when nothing is new. Keeps a repeat from re-blocking the same remote while
    /// still blocking a new one.
    public mutating func claim(_ actions: [ResponseAction], for alert: Alert) -> [ResponseAction] {
        let key = Key(source: alert.source.key, kind: alert.kind)
        guard let index = windows.index(forKey: key), windows.values[index].id == alert.id else { return actions }
        var fresh: [ResponseAction] = []
        for action in actions where action != .none && !windows.values[index].actions.contains(action) && !fresh.contains(action) {
            fresh.append(action)
        }
        windows.values[index].actions += fresh
        return fresh.isEmpty ? [.none] : fresh
    }

    /// Closes windows that ended at or before `now`.
    public mutating func expire(now: UInt64) {
        guard windows.values.contains(where: { now >= $0.windowStartNs &+ windowNs }) else { return }
        windows = windows.filter { now < $0.value.windowStartNs &+ windowNs }
    }

    private mutating func makeRoom(now: UInt64) {
        expire(now: now)
        guard windows.count >= maxWindows,
              let oldest = windows.min(by: { $0.value.windowStartNs < $1.value.windowStartNs })?.key else { return }
        windows.removeValue(forKey: oldest)
        windowsEvicted += 1
    }
}
