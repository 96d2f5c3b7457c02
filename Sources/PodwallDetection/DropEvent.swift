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
    public var process: ProcessIdentity?

    public init(key: FlowKey, timestampNs: UInt64, matchedPrefix: String, reason: Reason, process: ProcessIdentity? = nil) {
        self.key = key
        self.timestampNs = timestampNs
        self.matchedPrefix = matchedPrefix
        self.reason = reason
        self.process = process
    }
}

/// The process behind a cgroup-hook decision.
public struct ProcessIdentity: Sendable, Hashable, Codable {
    public var pid: UInt32
    public var tgid: UInt32
    public var uid: UInt32
    public var comm: String
    public var cgroupId: UInt64
    /// Under the cgroup v2 mount, when the agent found it.
    public var cgroupPath: String?

    public init(pid: UInt32, tgid: UInt32, uid: UInt32, comm: String, cgroupId: UInt64, cgroupPath: String? = nil) {
        self.pid = pid
        self.tgid = tgid
        self.uid = uid
        self.comm = comm
        self.cgroupId = cgroupId
        self.cgroupPath = cgroupPath
    }

    enum CodingKeys: String, CodingKey {
        case pid, tgid, uid, comm
        case cgroupId = "cgroup_id"
        case cgroupPath = "cgroup_path"
    }
}
