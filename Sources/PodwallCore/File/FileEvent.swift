/// What a pod's process did to a file the rules watch.
public enum FileOperation: String, Sendable, Codable, Hashable {
    /// Opened for writing (created, truncated or appended to).
    case write
    /// Opened for reading only (a sensitive read).
    case read
    case unlink, rename, link, symlink, chmod, chown, truncate
    /// The interpreter of a `#!` script a pod's process wrote opened it
    /// (an exec of a dropped script, judged where its file is known).
    case script
}

/// A file operation of a pod's process on a watched path (or on one the
/// kernel could not judge: `unresolved`), from the file programs.
public struct FileEvent: Hashable, Sendable {
    public var process: ProcessIdentity
    public var timestampNs: UInt64
    public var uid: UInt32
    public var comm: String
    public var operation: FileOperation
    /// The path as the process's root sees it (container path); for rename
    /// and link the old name, for symlink what the link points to.
    public var path: String
    /// rename, link, symlink: the new name.
    public var target: String?
    /// The kernel's rule match: its index in the rules the agent gave it, or nil.
    public var ruleID: UInt32?
    /// open: the file's open flags; chmod: the new mode.
    public var mode: UInt32
    /// The kernel killed the process at the syscall (a deny or breakout rule).
    public var killed: Bool
    /// The path was too deep or long and lost its first components.
    public var pathCut: Bool
    /// The kernel could not judge the name ("..", "//", an unreadable
    /// directory fd): the agent matches the rules itself.
    public var unresolved: Bool
    /// The file is outside the process's root (another mount namespace,
    /// /proc/PID/root, a directory fd from before a chroot): a breakout.
    public var outsideRoot = false
    /// Opens (and a script's open by its interpreter): the opened file's
    /// inode, to find it on disk or match it to a dropped program's exec.
    public var inode: UInt64?
    /// Where the process's root is on the host (its container's root file
    /// system), added by the agent: the host path is this + `path`.
    public var hostRoot: String?

    public init(
        process: ProcessIdentity, timestampNs: UInt64, uid: UInt32 = 0, comm: String, operation: FileOperation, path: String,
        target: String? = nil, ruleID: UInt32? = nil, mode: UInt32 = 0, killed: Bool = false, pathCut: Bool = false,
        unresolved: Bool = false
    ) {
        self.process = process
        self.timestampNs = timestampNs
        self.uid = uid
        self.comm = comm
        self.operation = operation
        self.path = path
        self.target = target
        self.ruleID = ruleID
        self.mode = mode
        self.killed = killed
        self.pathCut = pathCut
        self.unresolved = unresolved
    }
}

/// A syscall by which a pod's process reaches out of its container.
public enum BreakoutTechnique: String, Sendable, Codable, Hashable {
    /// setns(): joining another namespace (`nsenter -t 1`).
    case setns
    /// unshare() of a user, mount or cgroup namespace (`unshare -Urm`).
    case unshare
    /// mount(), or the mount API (fsopen, move_mount).
    case mount
    /// init_module, finit_module.
    case kernelModule = "kernel_module"
    /// ptrace() of another process.
    case ptrace
    /// connect() to the container runtime's socket.
    case runtimeSocket = "runtime_socket"
    /// A write to a breakout path (release_agent, core_pattern, sysrq-trigger).
    case breakoutPath = "breakout_path"
    /// An open of a file outside the process's root.
    case outsideRoot = "outside_root"
}

public struct BreakoutAttempt: Hashable, Sendable {
    public var process: ProcessIdentity
    public var timestampNs: UInt64
    public var uid: UInt32
    public var comm: String
    public var technique: BreakoutTechnique
    /// setns: the namespace type; unshare: the flags; mount: the flags; ptrace: the request.
    public var argument: UInt64
    /// ptrace: the traced pid as the pod numbers it.
    public var targetPid: UInt32?
    /// mount: the target; runtime socket: its path.
    public var path: String?
    /// mount: the file system type.
    public var detail: String?
    /// The kernel killed the process at the syscall.
    public var killed: Bool

    public init(
        process: ProcessIdentity, timestampNs: UInt64, uid: UInt32 = 0, comm: String, technique: BreakoutTechnique,
        argument: UInt64 = 0, targetPid: UInt32? = nil, path: String? = nil, detail: String? = nil, killed: Bool = false
    ) {
        self.process = process
        self.timestampNs = timestampNs
        self.uid = uid
        self.comm = comm
        self.technique = technique
        self.argument = argument
        self.targetPid = targetPid
        self.path = path
        self.detail = detail
        self.killed = killed
    }
}

/// An exec of a program the pod brought in at run time: fileless (a
/// memfd, a deleted file) or written by a process of a pod.
public struct DroppedProgram: Hashable, Sendable {
    public var fileless: Bool
    /// Who wrote it, and when (kernel monotonic ns); nil for fileless.
    public var writerPid: UInt32?
    public var writerComm: String?
    public var writerCgroupID: UInt64?
    public var writtenNs: UInt64?
    /// In a directory whose rules forbid running what pods write there (/tmp, /dev/shm).
    public var inNoExecDirectory: Bool

    public init(
        fileless: Bool, writerPid: UInt32? = nil, writerComm: String? = nil, writerCgroupID: UInt64? = nil, writtenNs: UInt64? = nil,
        inNoExecDirectory: Bool = false
    ) {
        self.fileless = fileless
        self.writerPid = writerPid
        self.writerComm = writerComm
        self.writerCgroupID = writerCgroupID
        self.writtenNs = writtenNs
        self.inNoExecDirectory = inNoExecDirectory
    }
}
