/// One program run in the process cache: a process's program between two
/// execs (or from its fork, or from when the agent found it in /proc).
public struct ProcessEntry: Hashable, Sendable {
    /// Where the cache learnt of the program.
    public enum Origin: Hashable, Sendable {
        /// A fork: the child still runs its parent's program (copied here).
        case fork
        case exec
        /// Found running in /proc at agent start.
        case procfs
    }

    public var execID: ExecID
    public var identity: ProcessIdentity
    public var comm: String
    public var filename: String
    /// Cut to the cache's text budget; `argumentsTruncated` when cut here or by the kernel.
    public var arguments: [String]
    public var argumentsTruncated: Bool
    /// The program that started this one: the process's previous program, or its parent's.
    public var parent: ExecID?
    public var origin: Origin
    public var exitedNs: UInt64?
    /// As wait(2) reports it; nil when the exit was inferred (pid reused, exit lost).
    public var exitCode: UInt32?

    public init(
        execID: ExecID, identity: ProcessIdentity, comm: String, filename: String, arguments: [String],
        argumentsTruncated: Bool = false, parent: ExecID?, origin: Origin, exitedNs: UInt64? = nil, exitCode: UInt32? = nil
    ) {
        self.execID = execID
        self.identity = identity
        self.comm = comm
        self.filename = filename
        self.arguments = arguments
        self.argumentsTruncated = argumentsTruncated
        self.parent = parent
        self.origin = origin
        self.exitedNs = exitedNs
        self.exitCode = exitCode
    }

    public var cgroupID: UInt64 { identity.cgroupID }
    /// When the program started: the exec, the fork, or the process's start (procfs).
    public var execNs: UInt64 { execID.execNs }
    public var isExited: Bool { exitedNs != nil }

    /// "java -> sh -> bash": the oldest ancestor first, this program last.
    /// `ancestry` is parent first, as `ProcessCache.ancestry(of:)` returns it.
    /// A fork's copy of its parent's program is left out when the same
    /// process exec'd right after, so the text names programs, not clones.
    public func lineage(ancestry: [ProcessEntry]) -> String {
        (ancestorNames(ancestry: ancestry).reversed() + [comm]).joined(separator: " -> ")
    }

    /// The programs above this one, parent first, clones left out as in `lineage`.
    public func ancestorNames(ancestry: [ProcessEntry]) -> [String] {
        var names: [String] = []
        var later = self
        for entry in ancestry {
            let isClone = entry.origin == .fork && entry.execID.pid == later.execID.pid
            if !isClone { names.append(entry.comm) }
            later = entry
        }
        return names
    }
}
