import PodwallCore

/// Reverse shells whose stdio is not the socket itself: a shell reading
/// commands from a pipe, a pty or a socketpair whose other end is a process
/// of the pod that holds an outbound connection (`mkfifo` + `nc`, python's
/// `pty.spawn`, socat's default socketpair, a JVM pumping a `/bin/sh`'s
/// streams). The relay is the shell's parent, or on the other side of a pipe
/// of its stdio (it reads what the shell writes, or writes what it reads:
/// processes that share a container's log pipe as stdout are not). Decided
/// when the second of the two (the shell's exec, the relay's connect)
/// arrives, within `windowNs` of the first; where the kernel decided first
/// (`ExecRecord.relayedBy`, `RelayConnect`), its decision is reported.
public struct ShellRelayDetector: Sendable {
    /// PW_RELAY_WINDOW_NS, the kernel's window (a test holds them equal).
    public var windowNs: UInt64 = 30_000_000_000
    /// Bounds each table (a pod's fork storm must not grow memory).
    public var maxTracked = 8192
    /// The kernel judges pipe relays at the relay's connect() (its
    /// `RelayConnect` comes on the process ring, the hook's connect on the
    /// network ring, in either order): a relay found from the hook's event
    /// waits up to `kernelWaitNs` for the kernel's, which says whether it
    /// killed the relay, and is reported alone if none comes.
    public var kernelJudgesPipes = false
    /// With it, the network tools (names) the kernel also judges as the
    /// relay of a shell they started before connecting (socat's pty).
    public var kernelJudgesTools: Set<String> = []
    public var kernelWaitNs: UInt64 = 1_000_000_000

    /// A program of a pod, as recently exec'd.
    struct Program {
        var parentPid: UInt32
        var cgroupID: UInt64
        var pipes: PipeSides
        var execNs: UInt64
    }

    /// A shell reading commands from its stdin, which is not a socket.
    struct Shell {
        var exec: ExecRecord
        var source: AlertSource
        var pipes: PipeSides
    }

    /// The pipes (by inode) a process reads as fd 0 and writes as fd 1 or 2.
    struct PipeSides {
        var reads: Set<UInt64>
        var writes: Set<UInt64>

        init(_ stdio: [StdioDescriptor]) {
            func pipes(_ fds: ArraySlice<StdioDescriptor>) -> Set<UInt64> {
                Set(fds.compactMap { if case .pipe(let inode) = $0 { inode } else { nil } })
            }
            reads = pipes(stdio.prefix(1))
            writes = pipes(stdio.dropFirst().prefix(2))
        }

        /// One reads what the other writes.
        func facing(_ other: PipeSides) -> Bool {
            !reads.isDisjoint(with: other.writes) || !writes.isDisjoint(with: other.reads)
        }
    }

    private var programs: [UInt32: Program] = [:]
    private var shells: [UInt32: Shell] = [:]
    private var connections: [UInt32: ProcessConnection] = [:]
    /// Shells found relayed through a pipe by the hook's connect, by pid,
    /// waiting for the kernel's `RelayConnect`.
    private var awaitingKernel: [UInt32: (shell: Shell, relay: ProcessConnection)] = [:]
    /// When the tables were last swept of what left the window.
    private var sweptNs: UInt64 = 0

    public init() {}

    /// Every exec of a pod; `isShell` from the caller's rules. Execs and
    /// connects come from two rings, so either may arrive first: a relay's
    /// exec seen after its connect is checked too.
    mutating func observe(_ exec: ExecRecord, isShell: Bool, source: AlertSource) -> [(ProcessEvidence, AlertSource)] {
        forget(before: exec.timestampNs)
        let pid = exec.process.pid
        let pipes = PipeSides(exec.stdio)
        let limit = maxTracked
        Self.insert(
            &programs, pid,
            Program(parentPid: exec.process.parentPid, cgroupID: exec.process.cgroupID, pipes: pipes, execNs: exec.timestampNs),
            limit: limit)
        var found: [(ProcessEvidence, AlertSource)] = []
        if let connection = connections[pid] { found += relayedShells(of: connection) }
        if let relay = exec.relayedBy {  // the kernel's decision (and kill)
            shells[pid] = nil
            return found + [(Self.evidence(Shell(exec: exec, source: source, pipes: pipes), relay), source)]
        }
        guard isShell, exec.stdioSockets.isEmpty, Self.isRelayable(exec.stdio.first),
            ShellInvocation.readsCommandsFromStdin(exec.arguments)
        else {
            shells[pid] = nil
            return found
        }
        let shell = Shell(exec: exec, source: source, pipes: pipes)
        guard let relay = relayHolding(for: shell) else {
            Self.insert(&shells, pid, shell, limit: limit)
            return found
        }
        return found + report(shell, relayedBy: relay)
    }

    /// The kernel took a process for a waiting shell's relay at its connect.
    mutating func observe(_ relay: RelayConnect) -> [(ProcessEvidence, AlertSource)] {
        forget(before: relay.connection.timestampNs)
        let limit = maxTracked
        Self.insert(&connections, relay.connection.pid, relay.connection, limit: limit)
        guard let shell = shells.removeValue(forKey: relay.shellPid) ?? awaitingKernel.removeValue(forKey: relay.shellPid)?.shell
        else { return [] }
        var evidence = Self.evidence(shell, relay.connection)
        evidence.relayKilled = relay.killed
        return [(evidence, shell.source)]
    }

    /// A pod's process connected somewhere.
    mutating func observe(_ connection: ProcessConnection) -> [(ProcessEvidence, AlertSource)] {
        forget(before: connection.timestampNs)
        guard Self.isOutbound(connection) else { return [] }
        let limit = maxTracked
        Self.insert(&connections, connection.pid, connection, limit: limit)
        return relayedShells(of: connection)
    }

    /// The waiting shells `connection`'s process relays (each reported once).
    private mutating func relayedShells(of connection: ProcessConnection) -> [(ProcessEvidence, AlertSource)] {
        let relayed = shells.values.filter { related($0, to: connection.pid) }
        for shell in relayed { shells[shell.exec.process.pid] = nil }
        return relayed.flatMap { report($0, relayedBy: connection) }
    }

    /// The evidence, now; or nothing yet when the kernel judged this relay
    /// at its connect (a pipe relay that connected after the shell's exec)
    /// and its `RelayConnect` is still on its way.
    private mutating func report(_ shell: Shell, relayedBy relay: ProcessConnection) -> [(ProcessEvidence, AlertSource)] {
        let judgedAtConnect =
            kernelJudgesPipes && relay.timestampNs >= shell.exec.timestampNs
            && (shell.exec.process.parentPid != relay.pid || kernelJudgesTools.contains(relay.comm))
        guard judgedAtConnect else { return [(Self.evidence(shell, relay), shell.source)] }
        if awaitingKernel.count < maxTracked { awaitingKernel[shell.exec.process.pid] = (shell, relay) }
        return []
    }

    /// The relays the kernel did not judge within `kernelWaitNs` (its
    /// argument check gave up, or its tables were full), reported now.
    mutating func tick(now: UInt64) -> [(ProcessEvidence, AlertSource)] {
        let due = awaitingKernel.filter { now >= $0.value.relay.timestampNs &+ kernelWaitNs }
        for pid in due.keys { awaitingKernel[pid] = nil }
        return due.values.map { (Self.evidence($0.shell, $0.relay), $0.shell.source) }
    }

    /// A connection of the shell's parent, or of a process sharing a pipe with it.
    private func relayHolding(for shell: Shell) -> ProcessConnection? {
        connections.values.first { related(shell, to: $0.pid) }
    }

    private func related(_ shell: Shell, to pid: UInt32) -> Bool {
        if shell.exec.process.parentPid == pid { return true }
        guard let program = programs[pid], program.cgroupID == shell.exec.process.cgroupID || program.cgroupID == 0 else { return false }
        return shell.pipes.facing(program.pipes)
    }

    static func isRelayable(_ stdin: StdioDescriptor?) -> Bool {
        switch stdin {
        case .pipe, .unixSocket, .terminal: true
        default: false
        }
    }

    /// Loopback is a pod talking to itself, not to an attacker; UDP is left
    /// out as the kernel leaves it out (every name lookup connects a UDP socket).
    static func isOutbound(_ connection: ProcessConnection) -> Bool {
        connection.proto == .tcp && !connection.remote.isLoopback && !connection.remote.isUnspecified
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

    /// Static: as a method it would need a copy of `self` beside the table
    /// borrowed inout, and that copy makes the table's storage shared, so
    /// every insert copied the whole table (8,192 programs, at every exec).
    private static func insert<Value>(_ table: inout [UInt32: Value], _ key: UInt32, _ value: Value, limit: Int) {
        if table.count >= limit, table[key] == nil, let any = table.keys.first { table[any] = nil }
        table[key] = value
    }
}
