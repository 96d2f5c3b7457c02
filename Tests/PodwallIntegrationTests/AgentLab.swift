import Foundation
import PodwallABI
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// A lab with the real `podwall` binary running as the node agent in the
/// node namespace, with the lab's own pin root.
final class AgentLab {
    let lab: Lab
    private(set) var agent: Process?
    private var logFiles: [String] = []

    init(pods: Int) throws {
        LibbpfLog.capture(echo: false)  // expected "no filter here" replies stay out of the output
        lab = try Lab(pods: pods)
    }

    deinit {
        stopAgent()
        lab.teardown()
        for file in logFiles { try? FileManager.default.removeItem(atPath: file) }
        try? FileManager.default.removeItem(atPath: captureDirectory)
    }

    /// Alert captures stay out of the node's /var/lib/podwall.
    var captureDirectory: String { "/tmp/\(lab.id)-captures" }

    var binary: String { PodwallBinary.path }

    @discardableResult
    func podwall(_ arguments: [String], check: Bool = true) throws -> Shell.Result {
        try Shell.run(lab.nodeCommand([binary] + arguments + ["--pin-root", lab.pinRoot]), check: check)
    }

    /// Starts the agent and waits until every lab pod's interface (or
    /// `interfaces` of them) is attached.
    func startAgent(extraArguments: [String] = [], interfaces: Int? = nil) throws {
        let expected = interfaces ?? lab.pods.count
        let logFile = try launchAgent(extraArguments: extraArguments)
        try #require(
            waitForLine("interfaces=\(expected) [PodwallAgent] ready", in: logFile, timeout: 20),
            "agent did not attach to \(expected) pods within \(Int(20 * testTimeScale)) s; log:\n\(log)")
    }

    /// Starts the agent without waiting for it to be ready; returns its log file.
    @discardableResult
    func launchAgent(extraArguments: [String] = []) throws -> String {
        let logFile = "/tmp/\(lab.id)-agent-\(logFiles.count + 1).log"
        logFiles.append(logFile)
        // nsenter execs the agent, so the spawned process is the agent itself.
        agent = try lab.spawn(
            lab.nodeCommand(
                [
                    binary, "run", "--pin-root", lab.pinRoot, "--interfaces", "veth-*",
                    "--capture-dir", captureDirectory
                ] + extraArguments),
            logFile: logFile)
        return logFile
    }

    /// Whether `text` appeared in the agent's log file within `timeout` seconds.
    func waitForLine(_ text: String, in logFile: String, timeout: Double) -> Bool {
        waitUntil(timeout: timeout) { ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains(text) } != nil
    }

    /// SIGTERM, as systemd or the kubelet would send it.
    func stopAgent() {
        guard let agent, agent.isRunning else { return }
        agent.terminate()
        let deadline = Date().addingTimeInterval(10)
        while agent.isRunning && Date() < deadline { usleep(20_000) }
        self.agent = nil
    }

    /// SIGKILL: no cleanup at all, as after a crash or an OOM kill.
    func killAgent() {
        guard let agent, agent.isRunning else { return }
        kill(agent.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while agent.isRunning && Date() < deadline { usleep(20_000) }
        self.agent = nil
    }

    var log: String {
        logFiles.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }.joined(separator: "--- restart ---\n")
    }

    func ifindex(of interface: String) throws -> UInt32 {
        try NetworkNamespace.run(lab.nodeNamespace) { if_nametoindex(interface) }
    }

    func attachedIfindexes() -> [UInt32] {
        ((try? PinnedState(pinRoot: lab.pinRoot).links())?.interfaces()) ?? []
    }

    /// IDs of podwall's programs on an interface of the node (TCX or clsact).
    func attachedPrograms(_ interface: String) throws -> [UInt32?] {
        let index = try ifindex(of: interface)
        return try NetworkNamespace.run(lab.nodeNamespace) {
            TCHook.allCases.map { PodInterfaceAttachment.programID(ifindex: index, hook: $0) }
        }
    }

    /// `podwall capture` in the node namespace, in the background.
    func startCapture(_ arguments: [String], log: String) throws -> Process {
        let process = try lab.spawn(lab.nodeCommand([binary, "capture", "--pin-root", lab.pinRoot, "--quiet"] + arguments), logFile: log)
        let started = waitUntil(timeout: 5) { Self.text(log).contains("capturing") }
        try #require(started != nil, "podwall capture did not start: \(Self.text(log))")
        return process
    }

    static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The objects of a JSON-lines text (alerts), skipping what does not parse.
    static func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// SIGINT, as at a terminal: a capture flushes and closes its file.
    static func stop(_ process: Process) {
        if process.isRunning { process.interrupt() }
        _ = waitUntil(timeout: 5) { !process.isRunning }
    }

    func flows() throws -> [[String: Any]] {
        try podwall(["flows", "--json"]).output.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }
}

extension AgentLab {
    /// curl inside the node namespace, where the agent's API listens on loopback.
    func api(_ method: String, _ path: String, body: String? = nil, token: String? = nil) throws -> (status: Int, body: String) {
        var command = ["curl", "-s", "-m", "5", "-o", "/dev/stdout", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:9464" + path]
        if let token { command += ["-H", "Authorization: Bearer \(token)"] }
        if let body { command += ["-H", "Content-Type: application/json", "-d", body] }
        let output = try lab.inNode(command, check: false).output
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// The kernel blocklist as `podwall blocklist list --json` shows it, by prefix.
    func blocklistEntries() throws -> [String: [String: Any]] {
        var entries: [String: [String: Any]] = [:]
        for line in try podwall(["blocklist", "list", "--json"]).output.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let object, let prefix = object["prefix"] as? String { entries[prefix] = object }
        }
        return entries
    }
}

extension Dictionary where Key == String, Value == Any {
    func int(_ path: String...) -> Int? {
        var current: Any? = self
        for key in path { current = (current as? [String: Any])?[key] }
        return current as? Int
    }
}

/// One UDP flow from the lab's first pod to its second, and its from-pod
/// packet count as `podwall flows` reports it on the first pod's veth.
final class CountedUDPFlow {
    let env: AgentLab
    let port: UInt16
    let sourcePort: UInt16
    let receiver: Int32

    init(_ env: AgentLab, port: UInt16, sourcePort: UInt16) throws {
        self.env = env
        self.port = port
        self.sourcePort = sourcePort
        let server = env.lab.pods[1]
        receiver = try NetworkNamespace.run(server.namespace) { try LabSocket.udpReceiver(address: server.ipv4, port: port) }
    }

    deinit { close(receiver) }

    func send(_ count: Int) throws {
        let (client, server, port, sourcePort) = (env.lab.pods[0], env.lab.pods[1], port, sourcePort)
        try NetworkNamespace.run(client.namespace) {
            try LabSocket.sendUDP(to: server.ipv4, port: port, sourcePort: sourcePort, count: count, size: 10)
        }
    }

    func packets() throws -> Int? {
        let veth = env.lab.pods[0].hostInterface
        return try env.flows().first { $0["pod_port"] as? Int == Int(sourcePort) && $0["interface"] as? String == veth }?.int(
            "from_pod", "packets")
    }

    /// Datagrams the server received.
    func received() -> Int { LabSocket.drain(receiver) }
}
