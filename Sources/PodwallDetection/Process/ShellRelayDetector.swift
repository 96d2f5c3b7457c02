import PodwallCore

/// Reverse shells whose stdio is not the socket itself: a shell reading
/// commands from a pipe, a pty or a socketpair whose other end is a process
/// of the pod that holds an outbound connection (`mkfifo` + `nc`, python's
/// `pty.spawn`, socat's default socketpair, a JVM pumping a `/bin/sh`'s
/// streams). The relay is the shell's parent, or shares a pipe with its
/// stdio. Decided when the second of the two (the shell's exec, the relay's
/// connect) arrives, within `windowNs` of the first.
public struct ShellRelayDetector: Sendable {
    public var windowNs: UInt64 = 30_000_000_000
    /// Bounds each table (a pod's fork storm must not grow memory).
    public var maxTracked = 8192

    /// A program of a pod, as recently exec'd.
    struct Program {
        var parentPid: UInt32
        var cgroupID: UInt64
        var pipes: Set<UInt64>
        var execNs: UInt64
    }

    /// A shell reading commands from its stdin, which is not a socket.
    struct Shell {
        var exec: ExecRecord
        var source: AlertSource
        var pipes: Set<UInt64>
    }

    private var programs: [UInt32: Program] = [:]
    private var shells: [UInt32: Shell] = [:]
    private var connections: [UInt32: ProcessConnection] = [:]
    /// When the tables were last swept of what left the window.
    private var sweptNs: UInt64 = 0

    public init() {}

    /// Every exec of a pod; `isShell` from the caller's rules. Execs and
    /// connects come from two rings, so either may arrive first: a relay's
    /// exec seen after its connect is checked too.
    mutating func observe(_ exec: ExecRecord, isShell: Bool, source: AlertSource) -> [(ProcessEvidence, AlertSource)] {
        forget(before: exec.timestampNs)
        let pid = exec.process.pid
        let pipes = Set(exec.stdio.compactMap { if case .pipe(let inode) = $0 { inode } else { nil } })
        insert(
            &programs, pid,
            Program(parentPid: exec.process.parentPid, cgroupID: exec.process.cgroupID, pipes: pipes, execNs: exec.timestampNs))
        var found: [(ProcessEvidence, AlertSource)] = []
        if let connection = connections[pid] { found += relayedShells(of: connection) }
        guard isShell, exec.stdioSockets.isEmpty, Self.isRelayable(exec.stdio.first),
            ShellInvocation.readsCommandsFromStdin(exec.arguments)
        else {
            shells[pid] = nil
            return found
        }
        let shell = Shell(exec: exec, source: source, pipes: pipes)
        if let relay = relayHolding(for: shell) { return found + [(Self.evidence(shell, relay), source)] }
        insert(&shells, pid, shell)
        return found
    }

    /// A pod's process connected somewhere.
    mutating func observe(_ connection: ProcessConnection) -> [(ProcessEvidence, AlertSource)] {
        forget(before: connection.timestampNs)
        guard Self.isOutbound(connection) else { return [] }
        insert(&connections, connection.pid, connection)
        return relayedShells(of: connection)
    }

    /// The waiting shells `connection`'s process relays (each reported once).
    private mutating func relayedShells(of connection: ProcessConnection) -> [(ProcessEvidence, AlertSource)] {
        let relayed = shells.values.filter { related($0, to: connection.pid) }
        for shell in relayed { shells[shell.exec.process.pid] = nil }
        return relayed.map { (Self.evidence($0, connection), $0.source) }
    }

    /// A connection of the shell's parent, or of a process sharing a pipe with it.
    private func relayHolding(for shell: Shell) -> ProcessConnection? {
        connections.values.first { related(shell, to: $0.pid) }
    }

    private func related(_ shell: Shell, to pid: UInt32) -> Bool {
        if shell.exec.process.parentPid == pid { return true }
        guard let program = programs[pid], program.cgroupID == shell.exec.process.cgroupID || program.cgroupID == 0 else { return false }
        return !shell.pipes.isDisjoint(with: program.pipes)
    }

    static func isRelayable(_ stdin: StdioDescriptor?) -> Bool {
        switch stdin {
        case .pipe, .unixSocket, .terminal: true
        default: false
        }
    }

    /// Loopback is a pod talking to itself, not to an attacker.
    static func isOutbound(_ connection: ProcessConnection) -> Bool {
        !connection.remote.isLoopback && !connection.remote.isUnspecified
    }

    static func evidence(_ shell: Shell, _ relay: ProcessConnection) -> ProcessEvidence {
        var evidence = ProcessEvidence(
            kind: .reverseShell, technique: .relayedStdio, exec: shell.exec, remote: relay.remote, remotePort: relay.remotePort)
        evidence.relay = relay.comm
        return evidence
    }

    /// At most once a second: a sweep walks whole tables, and a stale entry
    /// only lives a second longer.
    private mutating func forget(before now: UInt64) {
        guard now > windowNs, now >= sweptNs &+ 1_000_000_000 else { return }
        sweptNs = now
        let horizon = now - windowNs
        if programs.count > maxTracked / 2 { programs = programs.filter { $0.value.execNs >= horizon } }
        shells = shells.filter { $0.value.exec.timestampNs >= horizon }
        connections = connections.filter { $0.value.timestampNs >= horizon }
    }

    private func insert<Value>(_ table: inout [UInt32: Value], _ key: UInt32, _ value: Value) {
        if table.count >= maxTracked, table[key] == nil, let any = table.keys.first { table[any] = nil }
        table[key] = value
    }
}
