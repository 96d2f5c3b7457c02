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

/// The process an alert names: the one behind a cgroup-hook decision, or
/// the program a process detector judged (then with its exec id, binary,
/// arguments and ancestry).
public struct AlertProcess: Sendable, Hashable, Codable {
    public var pid: UInt32
    public var tgid: UInt32
    public var uid: UInt32
    public var comm: String
    public var cgroupId: UInt64
    /// Under the cgroup v2 mount, when the agent found it.
    public var cgroupPath: String?
    /// Unique across pid reuse and execs (see `ExecID`).
    public var execId: String?
    /// The pid as the container sees it.
    public var namespacePid: UInt32?
    public var binary: String?
    public var arguments: [String]?
    /// Parent first: "java", "sh", ...
    public var ancestors: [String]?

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
        case execId = "exec_id"
        case namespacePid = "namespace_pid"
        case binary, arguments, ancestors
    }
}
