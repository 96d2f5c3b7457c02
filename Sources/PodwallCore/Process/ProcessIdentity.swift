/// Who a process is, as every process event names it.
public struct ProcessIdentity: Hashable, Sendable {
    /// Host process id (the thread group's).
    public var pid: UInt32
    /// The pid inside the process's own pid namespace (what `ps` shows in the container).
    public var namespacePid: UInt32
    /// Host pid of the real parent.
    public var parentPid: UInt32
    /// cgroup v2 id of the process's cgroup: the container's, in a pod.
    public var cgroupID: UInt64
    /// When the process started, kernel monotonic nanoseconds.
    public var startNs: UInt64

    public init(pid: UInt32, namespacePid: UInt32, parentPid: UInt32, cgroupID: UInt64, startNs: UInt64) {
        self.pid = pid
        self.namespacePid = namespacePid
        self.parentPid = parentPid
        self.cgroupID = cgroupID
        self.startNs = startNs
    }
}

/// One program run: unique on a node across pid reuse and across execs of
/// one process (the exec's own time stamp is in it), and across nodes once
/// the node's name is added, as Tetragon's exec_id is.
public struct ExecID: Hashable, Sendable, CustomStringConvertible {
    public var pid: UInt32
    /// Kernel monotonic nanoseconds of the exec (or of the process's start,
    /// for one found running in /proc).
    public var execNs: UInt64

    public init(pid: UInt32, execNs: UInt64) {
        self.pid = pid
        self.execNs = execNs
    }

    public var description: String { "\(pid)-\(execNs)" }

    /// `node:pid-ns`, the form alerts carry.
    public func qualified(node: String) -> String { "\(node):\(description)" }
}
