import PodwallCore

/// A connection the kernel refused: a blocklisted destination or a quarantined pod.
/// Cgroup connect/sendmsg hooks also know which process asked.
public struct DropEvent: Sendable, Equatable {
    public enum Reason: String, Sendable, Codable {
        case blocklist
        case quarantine
    }

    public var key: FlowKey
    /// Kernel clock, nanoseconds.
    public var timestampNs: UInt64
    /// The blocklist entry that matched, as text ("203.0.113.0/24").
    public var matchedPrefix: String
    public var reason: Reason
    public var process: AlertProcess?

    public init(key: FlowKey, timestampNs: UInt64, matchedPrefix: String, reason: Reason, process: AlertProcess? = nil) {
        self.key = key
        self.timestampNs = timestampNs
        self.matchedPrefix = matchedPrefix
        self.reason = reason
        self.process = process
    }
}
