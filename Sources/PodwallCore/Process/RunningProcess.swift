/// A process the agent found in /proc at start, before its exec events.
public struct RunningProcess: Hashable, Sendable {
    public var pid: UInt32
    public var parentPid: UInt32
    /// The pid in the process's own namespace (NSpid's last value); 0 if unknown.
    public var namespacePid: UInt32
    /// From /proc/<pid>/stat's starttime: whole clock ticks, so up to a tick
    /// earlier than the kernel's nanosecond start (the cache allows for it).
    public var startNs: UInt64
    public var comm: String
    /// The exe link's target.
    public var filename: String
    public var arguments: [String]
    public var cgroupID: UInt64

    public init(
        pid: UInt32, parentPid: UInt32, namespacePid: UInt32 = 0, startNs: UInt64, comm: String, filename: String,
        arguments: [String], cgroupID: UInt64
    ) {
        self.pid = pid
        self.parentPid = parentPid
        self.namespacePid = namespacePid
        self.startNs = startNs
        self.comm = comm
        self.filename = filename
        self.arguments = arguments
        self.cgroupID = cgroupID
    }

    /// `cgroupID`: the inode of the cgroup directory `status.cgroupPath` names (the agent stats it).
    public init(_ status: ProcStatus, filename: String, cgroupID: UInt64, namespacePid: UInt32 = 0) {
        self.init(
            pid: status.pid, parentPid: status.parentPid, namespacePid: namespacePid, startNs: status.startNs, comm: status.comm,
            filename: filename, arguments: status.arguments, cgroupID: cgroupID)
    }

    public var identity: ProcessIdentity {
        ProcessIdentity(pid: pid, namespacePid: namespacePid, parentPid: parentPid, cgroupID: cgroupID, startNs: startNs)
    }
}
