import PodwallCore

/// Why a file operation, a breakout syscall or a dropped program's exec was reported.
public struct FileEvidence: Sendable, Equatable, Codable {
    public var kind: AlertKind
    /// What was done: a file operation ("write", "read", "rename", ...), a
    /// breakout technique ("setns", "mount", ...), or for drop_execute
    /// "fileless" or "pod_written".
    public var technique: String
    public var comm: String
    /// The container path (the new name for rename and link).
    public var path: String?
    /// The same path on the host (through the container's root), when known.
    public var hostPath: String?
    /// rename and link: the old name; symlink: what the link points to.
    public var source: String?
    /// The rule that matched (its path prefix).
    public var rule: String?
    /// Open flags or chmod's mode; setns's namespace type, unshare's or mount's flags, ptrace's request.
    public var argument: UInt64?
    /// mount: the file system type; ptrace: the traced pid; drop_execute: who wrote the program.
    public var detail: String?
    /// An opened file's inode number.
    public var inode: UInt64?
    /// The kernel killed the process at the syscall or at exec.
    public var killed: Bool
    public var eventNs: UInt64

    public init(
        kind: AlertKind, technique: String, comm: String, path: String? = nil, source: String? = nil, rule: String? = nil,
        argument: UInt64? = nil, detail: String? = nil, killed: Bool, eventNs: UInt64
    ) {
        self.kind = kind
        self.technique = technique
        self.comm = comm
        self.path = path
        self.source = source
        self.rule = rule
        self.argument = argument
        self.detail = detail
        self.killed = killed
        self.eventNs = eventNs
    }

    enum CodingKeys: String, CodingKey {
        case technique, comm, path, source, rule, argument, detail, killed, inode
        case kind = "alert_kind"
        case eventNs = "event_ns"
        case hostPath = "host_path"
    }
}
