import Foundation
import PodwallCore
import PodwallLab
import PodwallTestSupport
import Testing

/// Issue 7, under attack and under load: the block holds while a flood runs
/// and the agent is killed, restarted and reloads its feeds, and it blocks
/// only what is listed. Delivery is counted at the receivers: a socket in
/// the listed pod and that namespace's own count of IPv4 packets received.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct UnderAttackTests {
    /// The agent with the socket hooks on the lab's cgroup and alerts only:
    /// a flood of new flows is a scan to the detectors, and a quarantine of
    /// the flooding pod would stop the control stream that proves the block
    /// is selective.
    func arguments(_ env: AgentLab, _ extra: [String] = []) throws -> [String] {
        ["--cgroup", try #require(env.lab.cgroupPath), "--alert-only"] + extra
    }

    /// Waits until `count` more datagrams of the control stream have arrived.
    func controlStreamFlows(_ control: DatagramCounter, _ when: String, count: Int = 200) {
        let start = control.received
        #expect(
            waitUntil(timeout: 5) { control.received >= start + count } != nil,
            "unlisted traffic stopped \(when): \(control.received - start) datagrams in 5 s")
    }

    @Test(.enabled(if: Shell.isInstalled("curl"), "needs curl"))
    func theBlockHoldsWhileTheAgentIsKilledAndRestartedDuringAFlood() throws {
        let env = try AgentLab(pods: 3)
        let (client, server, peer) = (env.lab.pods[0], env.lab.pods[1], env.lab.pods[2])
        try env.startAgent(extraArguments: try arguments(env))
        let listed = try DatagramCounter(namespace: server.namespace, address: server.ipv4, port: 9999)
        let control = try DatagramCounter(namespace: peer.namespace, address: peer.ipv4, port: 9999)
        // The receiver counts what arrives, until the pod is listed.
        try NetworkNamespace.run(client.namespace) {
            try LabSocket.sendUDP(to: server.ipv4, port: 9999, sourcePort: 9998, count: 20, size: 16)
        }
        #expect(waitUntil(timeout: 2) { listed.received == 20 } != nil, "\(listed.received) of 20 before the block")
        let deliveredBefore = listed.received
        _ = try env.podwall(["blocklist", "add", server.ipv4])
        let receivedBefore = try env.lab.ipv4Received(server.namespace)
        // One flow to the listed pod, and a new flow with every datagram to its other ports;
        // from outside the pod's cgroup, so TC alone must drop them.
        let flood = try UDPFlood(
            namespace: client.namespace,
            targets: [
                .init(address: server.ipv4, ports: 9999...9999), .init(address: server.ipv4, ports: 10000...59999)
            ], burst: 16, pauseMicroseconds: 1000)
        let stream = try UDPFlood(
            namespace: client.namespace, targets: [.init(address: peer.ipv4, ports: 9999...9999)],
            burst: 1, pauseMicroseconds: 1000)
        defer { flood.stop(); stream.stop(); listed.finish(); control.finish() }

        let started = Date()
        controlStreamFlows(control, "before the first kill")
        var restartSeconds: [Double] = []
        for stop in ["SIGKILL", "SIGKILL", "SIGTERM", "SIGKILL"] {
            let previous = try #require(env.agent)
            if stop == "SIGTERM" { env.stopAgent() } else { env.killAgent() }
            #expect(!previous.isRunning, "the agent outlived its \(stop)")
            controlStreamFlows(control, "with the agent stopped by \(stop)")
            #expect(listed.received == deliveredBefore, "a datagram reached the listed pod with the agent stopped by \(stop)")

            let restart = Date()
            try env.startAgent(extraArguments: try arguments(env))
            restartSeconds.append(Date().timeIntervalSince(restart))
            let log = env.log.components(separatedBy: "--- restart ---\n").last ?? ""
            #expect(log.contains("adopted=true"), "after \(stop): \(log)")
            // As a kubelet probes it: the API may start listening a moment after the log says ready.
            var ready = (status: 0, body: "")
            _ = try waitUntil(timeout: 5) {
                ready = try env.api("GET", "/readyz")
                return ready.status == 200
            }
            #expect(ready.status == 200 && ready.body.contains("\"ready\""), "after \(stop): \(ready)")
            #expect(try env.podwall(["blocklist", "check", server.ipv4]).output.contains("is blocked by \(server.ipv4)"))
            controlStreamFlows(control, "after the restart that followed \(stop)")
        }
        let sent = flood.stop(), streamSent = stream.stop()
        let delivered = listed.finish().count - deliveredBefore
        let (controlDelivered, longestGap) = control.finish()
        let receivedByServer = try env.lab.ipv4Received(server.namespace) - receivedBefore
        let hits = try env.blocklistEntries()[server.ipv4]?["hits"] as? Int ?? 0
        print(
            """
            kill/restart under flood: \(String(format: "%.1f", Date().timeIntervalSince(started))) s, \(sent) datagrams \
            to the listed pod (\(hits) dropped and counted), \(delivered) delivered to its socket, \(receivedByServer) IPv4 \
            packets received by it; control \(controlDelivered)/\(streamSent), longest silence \
            \(String(format: "%.2f", longestGap)) s; restarts ready in \(restartSeconds.map { String(format: "%.1f", $0) }) s
            """)
        #expect(sent > 10_000, "the flood must be a flood")
        #expect(delivered == 0 && receivedByServer == 0, "not one packet may reach the listed pod")
        #expect(hits >= sent, "every datagram to the listed pod is dropped at TC and counted")
        #expect(controlDelivered >= streamSent * 99 / 100, "unlisted traffic flows throughout")
        #expect(longestGap < 1, "unlisted traffic never stalls")
    }

    // MARK: - Feed churn

    /// The versions a feed goes through: unrelated entries come and go, one
    /// version replaces everything with thousands of entries, and every fifth
    /// is rejected for one bad line (and would have unlisted the server).
    struct FeedVersion {
        var lines: [String]
        /// The 1-based line of the bad entry, for a version that must be rejected.
        var badLine: Int?
        var prefixes: Set<IPPrefix> { Set(lines.compactMap { IPPrefix($0) }) }
        var text: String { (["# churn"] + lines).joined(separator: "\n") + "\n" }
    }

    static func unrelated(_ rng: inout SplitMix64) -> String {
        switch rng.next() % 4 {
        case 0: "2001:db8:\(String(rng.next() % 0x10000, radix: 16))::/48"
        case 1: "203.0.113.\(rng.next() % 64 * 4)/30"
        default: "198.19.\(rng.next() % 256).\(rng.next() % 256)"
        }
    }

    static func versions(count: Int, listed: String, seed: UInt64) -> [FeedVersion] {
        var rng = SplitMix64(seed: seed)
        var good = Set((0..<20).map { _ in unrelated(&rng) })
        var result: [FeedVersion] = [FeedVersion(lines: [listed] + good.sorted())]
        for number in 1..<count {
            if number % 5 == 2 {
                // Without the listed address, plus one line no parser or policy accepts.
                var lines = good.sorted()
                let bad = ["300.1.2.3", "192.0.2.0/33", "not-an-address", "10.0.0.0/8/8", "0.0.0.0/0", "::/0"][Int(rng.next() % 6)]
                let position = Int(rng.next() % UInt64(lines.count + 1))
                lines.insert(bad, at: position)
                result.append(FeedVersion(lines: lines, badLine: position + 2))
                continue
            }
            if number == count / 2 {
                // Everything replaced by thousands of entries, then by a few again.
                good = Set((0..<6000).map { "198.19.\($0 / 250).\($0 % 250)" })
            } else if number == count / 2 + 1 {
                good = Set((0..<10).map { _ in unrelated(&rng) })
            } else {
                for _ in 0..<Int(rng.next() % 30) { good.insert(unrelated(&rng)) }
                for _ in 0..<Int(rng.next() % 20) where !good.isEmpty { good.remove(good.sorted()[Int(rng.next() % UInt64(good.count))]) }
            }
            // Sometimes the server is listed through a prefix instead of its own address.
            let spelled = number % 4 == 3 ? listed + "/31" : listed
            result.append(FeedVersion(lines: (good.sorted() + [spelled]).shuffled(using: &rng)))
        }
        return result
    }

    /// Loads and rejections of the feed the agent has logged so far.
    func feedEvents(_ env: AgentLab) -> (loaded: Int, rejected: Int) {
        let log = env.log
        return (
            log.components(separatedBy: "feed churn: ").count - 1,
            log.components(separatedBy: "the last version of feed churn that loaded stays enforced").count - 1
        )
    }

    func kernelPrefixes(_ env: AgentLab) throws -> Set<IPPrefix> {
        let entries = try env.blocklistEntries()
        let others = entries.filter { $0.value["feeds"] as? String != "churn" }
        #expect(others.isEmpty, "only the feed lists anything: \(others)")
        return Set(entries.keys.compactMap { IPPrefix($0) })
    }

    @Test(.enabled(if: Shell.isInstalled("curl"), "needs curl"))
    func feedChurnDuringAFloodNeverUnlistsTheListedAddress() throws {
        // The server is the fourth pod (.14), so its /31 covers no other pod.
        let env = try AgentLab(pods: 4)
        let (client, peers, server) = (env.lab.pods[0], [env.lab.pods[1], env.lab.pods[2]], env.lab.pods[3])
        let directory = "/tmp/\(env.lab.id)-feeds", feed = directory + "/churn.txt"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let versions = Self.versions(count: 36, listed: server.ipv4, seed: 0xC4_0A11)
        try versions[0].text.write(toFile: feed, atomically: true, encoding: .utf8)
        // Files are polled every min(5 s, --feed-interval).
        try env.startAgent(extraArguments: try arguments(env, ["--feed", feed, "--feed-interval", "1"]))
        try #require(waitUntil(timeout: 10) { feedEvents(env).loaded == 1 } != nil, "first load; log:\n\(env.log)")

        let listed = try DatagramCounter(namespace: server.namespace, address: server.ipv4, port: 9999)
        let controls = try peers.map { try DatagramCounter(namespace: $0.namespace, address: $0.ipv4, port: 9999) }
        let receivedBefore = try env.lab.ipv4Received(server.namespace)
        // Small datagrams to the unlisted pods, and a steady stream to the listed one.
        let flood = try UDPFlood(
            namespace: client.namespace, targets: peers.map { .init(address: $0.ipv4, ports: 9999...9999) },
            burst: 8, pauseMicroseconds: 1000)
        let toListed = try UDPFlood(
            namespace: client.namespace, targets: [.init(address: server.ipv4, ports: 9999...9999)],
            burst: 4, pauseMicroseconds: 1000)
        defer { flood.stop(); toListed.stop(); listed.finish(); controls.forEach { $0.finish() } }

        let started = Date()
        var lastGood = versions[0]
        var reloadSeconds: [Double] = []
        for (number, version) in versions.enumerated().dropFirst() {
            let written = Date()
            try version.text.write(toFile: feed, atomically: true, encoding: .utf8)
            let seen = waitUntil(timeout: 10) {
                let events = feedEvents(env); return events.loaded + events.rejected == number + 1
            }
            try #require(seen != nil, "version \(number) was not picked up within 10 s; log:\n\(env.log.suffix(3000))")
            reloadSeconds.append(Date().timeIntervalSince(written))
            #expect(env.agent?.isRunning == true)
            if number % 10 == 0 || number == versions.count / 2 {
                #expect(try env.api("GET", "/healthz").status == 200, "the agent answers after version \(number)")
            }
            if let badLine = version.badLine {
                #expect(feedEvents(env).rejected == (number + 3) / 5, "version \(number) must be rejected")
                #expect(env.log.contains("churn.txt:\(badLine): "), "version \(number): no `churn.txt:\(badLine): reason` in the log")
            } else {
                lastGood = version
            }
            #expect(try kernelPrefixes(env) == lastGood.prefixes, "after version \(number) the kernel lists the last good version")
            #expect(listed.received == 0, "a datagram reached the listed pod after version \(number)")
        }
        let health = try env.api("GET", "/healthz")
        #expect(health.status == 200, "the agent still answers: \(health)")
        let sentToListed = toListed.stop(), sentToPeers = flood.stop()
        let delivered = listed.finish().count
        let peersDelivered = controls.map { $0.finish().count }.reduce(0, +)
        let receivedByServer = try env.lab.ipv4Received(server.namespace) - receivedBefore
        let (loaded, rejected) = feedEvents(env)
        print(
            """
            feed churn under flood: \(versions.count - 1) versions in \(String(format: "%.1f", Date().timeIntervalSince(started))) s \
            (\(loaded) loads, \(rejected) rejections, pick-up \(String(format: "%.1f", reloadSeconds.max() ?? 0)) s at most); \
            \(sentToListed) datagrams to the listed pod, \(delivered) delivered, \(receivedByServer) IPv4 packets received by it; \
            unlisted \(peersDelivered)/\(sentToPeers)
            """)
        #expect(loaded == versions.count - rejected && rejected == versions.filter { $0.badLine != nil }.count)
        #expect(try kernelPrefixes(env) == versions.last!.prefixes, "the kernel ends on the last version")
        #expect(delivered == 0 && receivedByServer == 0, "not one packet may reach the listed pod")
        #expect(peersDelivered >= sentToPeers * 99 / 100, "unlisted traffic flows throughout")
    }
}
