import Foundation
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// `podwall run` as a node service in a lab: its config file, its HTTP API,
/// reloads, and what SIGTERM leaves behind.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct ServiceTests {
    static let token = "lab-token-\(getpid())"

    func files(_ env: AgentLab) throws -> (config: String, token: String) {
        let config = "/tmp/\(env.lab.id)-podwall.yaml", token = "/tmp/\(env.lab.id)-token"
        try Self.token.write(toFile: token, atomically: true, encoding: .utf8)
        try """
        interfaces: ["veth-*"]
        allow: [198.19.0.5/32]
        api:
          address: 127.0.0.1:9464
          token_file: \(token)
        capture:
          directory: /tmp/\(env.lab.id)-captures
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return (config, token)
    }

    func cleanUp(_ env: AgentLab) {
        for suffix in ["-podwall.yaml", "-token", "-captures"] {
            try? FileManager.default.removeItem(atPath: "/tmp/\(env.lab.id)\(suffix)")
        }
    }

    func allowlist(_ env: AgentLab) throws -> Int {
        try PinnedState(pinRoot: env.lab.pinRoot).allowlist().count
    }

    @Test(.enabled(if: Shell.isInstalled("curl"), "needs curl"))
    func theAPIServesReadsAndTokenCheckedWritesFromAConfigFile() throws {
        let env = try AgentLab(pods: 2)
        defer { cleanUp(env) }
        let (config, _) = try files(env)
        try env.startAgent(extraArguments: ["--config", config])
        #expect(try env.api("GET", "/readyz").status == 200)
        try env.lab.inPod(env.lab.pods[0], ["ping", "-c", "2", "-i", "0.2", env.lab.pods[1].ipv4], check: false)
        let metrics = try env.api("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("podwall_interface_packets_total{"), "\(metrics.body.prefix(2000))")
        #expect(metrics.body.contains("podwall_active_flows"))
        #expect(try env.api("POST", "/v1/blocklist", body: #"{"prefix":"198.19.0.9"}"#).status == 401)
        #expect(try env.podwall(["blocklist", "check", "198.19.0.9"], check: false).output.contains("not blocked"))
        #expect(try env.api("POST", "/v1/blocklist", body: #"{"prefix":"198.19.0.9"}"#, token: Self.token).status == 201)
        #expect(try env.podwall(["blocklist", "check", "198.19.0.9"]).output.contains("is blocked"))
        let flows = try env.api("GET", "/v1/flows")
        #expect(flows.status == 200 && flows.body.contains("\"interface\":\"veth-"), "\(flows.body)")
        #expect(flows.body.contains("\"snapshot_age_ms\":"), "the age of the snapshot the flows come from: \(flows.body)")
    }

    /// One writer: while the agent runs on the same pins, the CLI's blocklist
    /// and quarantine writes go through its root-only local socket, with no
    /// token (its limits apply, it knows what was released, it expires what
    /// it was given); nothing else writes the pins meanwhile.
    @Test func cliWritesGoThroughTheRunningAgent() throws {
        let env = try AgentLab(pods: 1)
        defer { cleanUp(env) }
        try env.startAgent(extraArguments: ["--api", ""])
        let socket = RuntimeFiles(pinRoot: env.lab.pinRoot).socketPath
        let add = try env.podwall(["blocklist", "add", "198.19.0.7", "--ttl", "10m"])
        #expect(add.output.contains("through the agent at \(socket)"), "\(add.output)")
        let broad = try env.podwall(["blocklist", "add", "0.0.0.0/1", "--allow-broad"], check: false)
        #expect(
            !broad.succeeded && broad.error.contains("the agent at \(socket) refused: prefix:"), "the agent's limits apply: \(broad.error)")
        #expect(try env.podwall(["blocklist", "del", "198.19.0.7"]).output.contains("through the agent"))
        #expect(try env.podwall(["blocklist", "check", "198.19.0.7"]).output.contains("not blocked"))
        // The agent expires what the CLI gave it.
        #expect(try env.podwall(["blocklist", "add", "198.19.0.9", "--ttl", "2s"]).output.contains("through the agent"))
        #expect(try env.podwall(["blocklist", "check", "198.19.0.9"]).output.contains("is blocked"))
        let expired = waitUntil(timeout: 10) { (try? env.podwall(["blocklist", "list"]).output.contains("198.19.0.9")) == false }
        #expect(expired != nil, "a 2 s entry is gone from the map within 10 s: \(env.log)")
        let pod = env.lab.pods[0].hostInterface
        #expect(try env.podwall(["quarantine", "add", pod, "--ttl", "1m"]).output.contains("through the agent"))
        #expect(try env.podwall(["quarantine", "list"]).output.contains(pod))
        #expect(try env.podwall(["quarantine", "release", pod]).output.contains("through the agent"))
        #expect(!(try env.podwall(["quarantine", "list"]).output.contains(pod)))
        // A feed too: the agent parses it under its limits and applies it whole, or refuses it whole.
        let feed = "/tmp/\(env.lab.id)-c2.txt"
        defer { try? FileManager.default.removeItem(atPath: feed) }
        try "198.19.0.20\n198.19.1.0/24\n".write(toFile: feed, atomically: true, encoding: .utf8)
        let load = try env.podwall(["blocklist", "load", feed, "--name", "c2"])
        #expect(load.output.contains("feed c2: 2 entries (+2 -0 ~0), through the agent at \(socket)"), "\(load.output)")
        try "198.19.0.21\nnot-an-address\n".write(toFile: feed, atomically: true, encoding: .utf8)
        let bad = try env.podwall(["blocklist", "load", feed, "--name", "c2"], check: false)
        #expect(!bad.succeeded && bad.error.contains("c2.txt:2:"), "file:line of the bad line: \(bad.error)")
        #expect(try env.podwall(["blocklist", "check", "198.19.0.20"]).output.contains("is blocked"), "the previous version stays")
        #expect(try env.podwall(["blocklist", "check", "198.19.0.21"]).output.contains("not blocked"), "nothing of the bad one")
        // A second agent on the same pins is refused in one sentence, and so is uninstall.
        let second = try env.podwall(["run", "--interfaces", "veth-*", "--api", ""], check: false)
        #expect(
            !second.succeeded && second.error.contains("another podwall process writes the pins at \(env.lab.pinRoot) (pid ")
                && second.error.contains("one agent per pin root"), "\(second.error)")
        let uninstall = try env.podwall(["uninstall"], check: false)
        #expect(!uninstall.succeeded && uninstall.error.contains("nothing written"), "\(uninstall.error)")
        #expect(PinnedState(pinRoot: env.lab.pinRoot).isInstalled)
    }

    /// Without an agent the CLI writes the pins itself, under the writer
    /// lock: a holder that does not answer (here this test) leaves them untouched.
    @Test func withoutAnAgentTheCLIWritesUnderTheLock() async throws {
        let env = try AgentLab(pods: 1)
        defer { cleanUp(env) }
        try env.startAgent(extraArguments: ["--api", ""])
        env.stopAgent()
        let direct = try env.podwall(["blocklist", "add", "198.19.0.8"])
        #expect(direct.succeeded && !direct.output.contains("through the agent"), "\(direct.output)")
        #expect(try env.podwall(["blocklist", "check", "198.19.0.8"]).output.contains("is blocked"))
        try await PinWriterLock.holding(pinRoot: env.lab.pinRoot, waitingUpTo: 1) {
            let refused = try env.podwall(["blocklist", "del", "198.19.0.8"], check: false)
            #expect(
                !refused.succeeded && refused.error.contains("pid \(getpid())") && refused.error.contains("nothing written"),
                "\(refused.error)")
        }
        #expect(try env.podwall(["blocklist", "check", "198.19.0.8"]).output.contains("is blocked"))
        #expect(try env.podwall(["blocklist", "del", "198.19.0.8"]).succeeded, "the lock went with its holder")
    }

    @Test(.enabled(if: Shell.isInstalled("curl"), "needs curl"))
    func aBadReloadKeepsTheRunningConfigAndAGoodOneApplies() throws {
        let env = try AgentLab(pods: 1)
        defer { cleanUp(env) }
        let (config, _) = try files(env)
        try env.startAgent(extraArguments: ["--config", config])
        #expect(try allowlist(env) == 1)
        let agent = try #require(env.agent)
        try "allow: [not-a-cidr]\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        let refused = waitUntil(timeout: 5) { env.log.contains("configuration reload refused") }
        #expect(refused != nil && env.log.contains("allow[0]: 'not-a-cidr'"), "\(env.log)")
        #expect(try allowlist(env) == 1, "the running allowlist stays")
        #expect(try env.api("GET", "/healthz").status == 200, "and the agent with it")
        try "interfaces: [\"veth-*\"]\nallow: [198.19.0.5/32, 198.19.0.6/32]\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(agent.processIdentifier, SIGHUP)
        #expect(waitUntil(timeout: 5) { (try? allowlist(env)) == 2 } != nil, "\(env.log)")
        #expect(env.log.contains("changed keys take effect after a restart: api"), "the API keys went away: \(env.log)")
    }

    /// systemd may stop the agent while it is still starting: the stop waits
    /// for the start to finish, then the agent stops as it always does.
    @Test func aSigtermWhileTheDataPathLoadsStopsTheAgentCleanly() throws {
        let env = try AgentLab(pods: 1)
        let logFile = try env.launchAgent()
        let agent = try #require(env.agent)
        try #require(env.waitForLine("data path loaded", in: logFile, timeout: 20), "\(env.log)")
        agent.terminate()  // before the service group runs: services are still being made
        #expect(waitUntil(timeout: 20) { !agent.isRunning } != nil, "\(env.log)")
        #expect(agent.terminationReason == .exit && agent.terminationStatus == 0, "ended by signal or failed: \(env.log)")
        #expect(env.log.contains("stopped; programs and pinned maps stay in place"), "\(env.log)")
    }

    @Test(.enabled(if: Shell.isInstalled("curl"), "needs curl"))
    func sigtermStopsInOrderLeavesEnforcementAndARestartAdoptsIt() throws {
        let env = try AgentLab(pods: 1)
        defer { cleanUp(env) }
        let (config, _) = try files(env)
        try env.startAgent(extraArguments: ["--config", config])
        _ = try env.podwall(["blocklist", "add", "198.19.0.9"])
        let interface = env.lab.pods[0].hostInterface
        let programs = try env.attachedPrograms(interface)
        env.stopAgent()
        #expect(env.log.contains("stopped; programs and pinned maps stay in place"), "\(env.log)")
        #expect(try env.attachedPrograms(interface) == programs, "the filters stay attached")
        #expect(try env.podwall(["blocklist", "check", "198.19.0.9"]).output.contains("is blocked"))
        #expect(try env.api("GET", "/healthz").status == 0, "the API is gone")
        try env.startAgent(extraArguments: ["--config", config])
        #expect(env.log.contains("adopted=true"))
        #expect(try env.podwall(["blocklist", "check", "198.19.0.9"]).output.contains("is blocked"))
    }
}
