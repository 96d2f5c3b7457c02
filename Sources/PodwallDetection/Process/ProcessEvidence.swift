import PodwallCore

/// Why a program was judged at its exec.
public struct ProcessEvidence: Sendable, Equatable, Codable {
    /// How the reverse shell showed itself (see docs/process.md).
    public enum Technique: String, Sendable, Codable {
        /// A shell or interpreter exec'd with a TCP or UDP socket on fd 0, 1 or 2.
        case socketOnStdio = "socket_on_stdio"
        /// A running shell made a TCP or UDP socket its fd 0, 1 or 2 (dup2/dup3).
        case socketDupedToStdio = "socket_duped_to_stdio"
        /// A network tool told to run a program on its connection (`nc -e`,
        /// `ncat --sh-exec`, `socat ... exec:`).
        case toolExecutesProgram = "tool_executes_program"
        /// A shell reading commands from a pipe, pty or socketpair relayed by a
        /// process of the pod that holds the connection (`relay`).
        case relayedStdio = "relayed_stdio"
        /// A network tool run in a pod.
        case networkTool = "network_tool"
        /// A binary not in the workload's learned baseline.
        case notInBaseline = "not_in_baseline"
    }

    public var kind: AlertKind
    public var technique: Technique
    /// The program's name and path as exec'd.
    public var comm: String
    public var binary: String
    public var arguments: [String]
    /// fds 0, 1 and 2, as text ("tcp 10.0.0.5:41000->203.0.113.9:4444", "pipe:[123]", "tty").
    public var stdio: [String]
    /// The other end of the connection on its stdio, or the one its arguments name.
    public var remote: IPAddress?
    public var remotePort: UInt16?
    /// The kernel killed the program before its first instruction (for a
    /// redirect: as the dup returned, before the shell read a command).
    public var killedAtExec: Bool
    /// The program that holds the connection, for a relayed shell.
    public var relay: String?
    /// The kernel killed the relay at its connect(), before the connection existed.
    public var relayKilled = false
    public var execNs: UInt64

    /// A running shell that redirected its stdio to a socket.
    public init(redirect: StdioRedirect) {
        kind = .reverseShell
        technique = .socketDupedToStdio
        comm = redirect.comm
        binary = ""
        arguments = []
        stdio = ["fd \(redirect.fd): " + StdioDescriptor.inetSocket(redirect.socket).description]
        remote = redirect.socket.isConnected ? redirect.socket.remote : nil
        remotePort = redirect.socket.isConnected ? redirect.socket.remotePort : nil
        killedAtExec = redirect.killed
        execNs = redirect.timestampNs
    }

    public init(
        kind: AlertKind, technique: Technique, exec: ExecRecord, remote: IPAddress? = nil, remotePort: UInt16? = nil
    ) {
        self.kind = kind
        self.technique = technique
        comm = exec.comm
        binary = exec.filename
        arguments = exec.arguments
        stdio = exec.stdio.map(\.description)
        self.remote = remote
        self.remotePort = remotePort
        killedAtExec = exec.killedAtExec
        execNs = exec.timestampNs
    }

    enum CodingKeys: String, CodingKey {
        case technique, comm, binary, arguments, stdio, remote, relay
        case kind = "alert_kind"
        case remotePort = "remote_port"
        case killedAtExec = "killed_at_exec"
        case relayKilled = "relay_killed"
        case execNs = "exec_ns"
    }
}
