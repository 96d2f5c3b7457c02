import Foundation
import PodwallCore
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// The in-kernel firewall on real veths and a real cgroup, with real traffic.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct FirewallTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("blocklists/samples").path

    func startedLab(pods: Int = 2, _ extra: [String] = []) throws -> AgentLab {
        let env = try AgentLab(pods: pods)
        try env.startAgent(extraArguments: ["--cgroup", try #require(env.lab.cgroupPath)] + extra)
        return env
    }

    /// Datagrams that reach `server` from `client` (sent from outside the pod cgroup).
    func udpDelivered(_ env: AgentLab, from client: Lab.Pod, to server: Lab.Pod, v6: Bool = false, count: Int = 20) throws -> Int {
        let address = v6 ? server.ipv6 : server.ipv4
        let receiver = try NetworkNamespace.run(server.namespace) { try LabSocket.udpReceiver(address: address, port: 9999) }
        defer { close(receiver) }
        try NetworkNamespace.run(client.namespace) {
            try LabSocket.sendUDP(to: address, port: 9999, sourcePort: 9998, count: count, size: 32)
        }
        return LabSocket.drain(receiver)
    }

    func connect(_ env: AgentLab, from client: Lab.Pod, to address: String, port: Int = 8080) throws -> Shell.Result {
        try env.lab.inPodCgroup(client, ["nc", "-v", "-z", "-w", "2", address, String(port)], check: false)
    }

    @Test func aListedAddressIsDeniedAtConnectAndDroppedAtTCBothWays() throws {
        let env = try startedLab()
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        let listener = try NetworkNamespace.run(server.namespace) { try LabSocket.tcpListener(address: server.ipv4, port: 8080) }
        defer { close(listener) }
        #expect(try connect(env, from: client, to: server.ipv4).succeeded, "reachable before the block")
        #expect(try udpDelivered(env, from: client, to: server) == 20)

        #expect(try env.podwall(["blocklist", "add", server.ipv4]).succeeded)
        let denied = try connect(env, from: client, to: server.ipv4)
        #expect(!denied.succeeded)
        #expect(denied.error.contains("Operation not permitted"), "connect() must fail fast with EPERM: \(denied.error)")
        #expect(try udpDelivered(env, from: client, to: server) == 0, "packets from outside the cgroup are dropped at TC")
        #expect(try udpDelivered(env, from: server, to: client) == 0, "replies from a listed source are dropped on the way in")
        let status = try env.podwall(["status"]).output
        #expect(status.contains("sock_denied"))
        let check = try env.podwall(["blocklist", "check", server.ipv4]).output
        #expect(check.contains("is blocked by \(server.ipv4)"), "\(check)")
        // The denial becomes an alert that names the process.
        let named = waitUntil(timeout: 3) { env.log.contains("\"blocklist_hit\"") && env.log.contains("\"comm\":\"nc\"") }
        #expect(named != nil, "no blocklist_hit alert naming nc; log:\n\(env.log)")
    }

    @Test func ipv6AndTheAllowlist() throws {
        let env = try startedLab(pods: 3, ["--allow", "\(Lab.ipv4Subnet).12/32"])
        let (client, allowed, other) = (env.lab.pods[0], env.lab.pods[1], env.lab.pods[2])
        // .12/31 lists both the allowed pod and the other one; the client (.11) is not listed.
        try env.podwall(["blocklist", "add", "\(Lab.ipv4Subnet).12/31"])
        try env.podwall(["blocklist", "add", other.ipv6])
        #expect(try udpDelivered(env, from: client, to: allowed) == 20, "the allowlist wins")
        #expect(try udpDelivered(env, from: client, to: other) == 0)
        #expect(try udpDelivered(env, from: client, to: other, v6: true) == 0)
        let listener = try NetworkNamespace.run(other.namespace) { try LabSocket.tcpListener(address: other.ipv6, port: 8080) }
        defer { close(listener) }
        let denied = try connect(env, from: client, to: other.ipv6)
        #expect(denied.error.contains("Operation not permitted"), "\(denied.error)")
    }

    @Test func reloadsNeverLetAListedAddressThrough() throws {
        let env = try startedLab()
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        let blocklist = try PinnedState(pinRoot: env.lab.pinRoot).blocklist()
        let listed = IPPrefix(server.ipv4)!
        // Two versions of a feed sharing only the listed address, and a second feed.
        let versionA = Set((0..<2000).map { IPPrefix("198.19.\($0 / 250).\($0 % 250)")! } + [listed])
        let versionB = Set((0..<2000).map { IPPrefix("198.19.\(100 + $0 / 250).\($0 % 250)")! } + [listed])
        try blocklist.replaceFeed("churn", with: versionA)

        let receiver = try NetworkNamespace.run(server.namespace) { try LabSocket.udpReceiver(address: server.ipv4, port: 9999) }
        defer { close(receiver) }
        let sender = OnAThread {
            try NetworkNamespace.run(client.namespace) {
                try LabSocket.sendUDP(to: server.ipv4, port: 9999, sourcePort: 9998, count: 3000, size: 16)
            }
        }
        for round in 0..<100 {
            if round % 10 == 9 {
                // Full replace: the address moves to another feed and the first is removed.
                try blocklist.replaceFeed("other", with: versionB)
                try blocklist.removeFeed("churn")
                try blocklist.replaceFeed("churn", with: versionA)
                try blocklist.removeFeed("other")
            } else {
                try blocklist.replaceFeed("churn", with: round % 2 == 0 ? versionB : versionA)
            }
        }
        try sender.join()
        #expect(LabSocket.drain(receiver) == 0, "not one datagram may reach a listed address during reloads")
    }

    @Test func enforcementSurvivesSIGKILLAndARestart() throws {
        let env = try startedLab()
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        try env.podwall(["blocklist", "add", server.ipv4])
        env.killAgent()
        #expect(try udpDelivered(env, from: client, to: server) == 0, "fail-closed with the agent dead")
        try env.startAgent(extraArguments: ["--cgroup", try #require(env.lab.cgroupPath)])
        #expect(try udpDelivered(env, from: client, to: server) == 0)
        #expect(try !connect(env, from: client, to: server.ipv4).succeeded)
    }

    @Test func everySampleFeedLoadsAndBadLinesChangeNothing() throws {
        let env = try startedLab()
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.samples).sorted() where file.hasPrefix("sample-") {
            let result = try env.podwall(["blocklist", "load", Self.samples + "/" + file], check: false)
            #expect(result.succeeded, "\(file): \(result.error)")
        }
        let before = try env.podwall(["blocklist", "list", "--json"]).output
        let rejected = try env.podwall(["blocklist", "load", Self.samples + "/bad-lines.txt", "--name", "sample-plain"], check: false)
        #expect(!rejected.succeeded)
        let errorLines = rejected.error.split(separator: "\n").filter { $0.contains("bad-lines.txt:") && !$0.contains("feed rejected") }
        #expect(errorLines.count >= 5, "\(rejected.error)")
        #expect(errorLines.allSatisfy { $0.range(of: #"bad-lines\.txt:\d+: "#, options: .regularExpression) != nil })
        #expect(rejected.error.contains("previous version of the feed stays enforced"))
        #expect(try env.podwall(["blocklist", "list", "--json"]).output == before, "a rejected feed changes nothing")
        // A /0 by hand would cut every pod off: refused as in a feed, unless asked for.
        let broad = try env.podwall(["blocklist", "add", "0.0.0.0/0"], check: false)
        #expect(!broad.succeeded && broad.error.contains("broader than the minimum prefix /8"), "\(broad.error)")
        #expect(try env.podwall(["blocklist", "list", "--json"]).output == before, "a refused entry changes nothing")
        // --allow-broad is the command's own override; through a running agent, its config decides (feeds.allow_broad).
        let forced = try env.podwall(["blocklist", "add", "0.0.0.0/0", "--allow-broad", "--ttl", "1s"], check: false)
        #expect(!forced.succeeded && forced.error.contains("refused: prefix:"), "\(forced.error)")
    }
}
