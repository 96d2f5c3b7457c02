/// A connect() a pod's process made (the cgroup hook saw it; at most one
/// per process and destination a second): the link from a flow to the
/// program that opened it, and what makes a relay of a shell's stdio.
public struct ProcessConnection: Hashable, Sendable {
    /// Host process id (tgid).
    public var pid: UInt32
    public var cgroupID: UInt64
    public var uid: UInt32
    public var comm: String
    public var proto: IPProtocol
    public var remote: IPAddress
    public var remotePort: UInt16
    /// Kernel monotonic nanoseconds.
    public var timestampNs: UInt64

    public init(
        pid: UInt32, cgroupID: UInt64, uid: UInt32 = 0, comm: String, proto: IPProtocol, remote: IPAddress, remotePort: UInt16,
        timestampNs: UInt64
    ) {
        self.pid = pid
        self.cgroupID = cgroupID
        self.uid = uid
        self.comm = comm
        self.proto = proto
        self.remote = remote
        self.remotePort = remotePort
        self.timestampNs = timestampNs
    }
}
