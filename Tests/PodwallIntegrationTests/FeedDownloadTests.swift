import Foundation
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// Feeds served over HTTP on the node namespace's loopback by
/// `python3 -m http.server` (which answers If-Modified-Since with 304).
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct FeedDownloadTests {
    final class Server {
        let directory: String
        let port: Int
        let process: Process

        init(in lab: Lab) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("podwall-feeds-\(getpid())-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            port = Int.random(in: 20000...40000)
            process = try lab.spawn(
                inNamespace: lab.nodeNamespace,
                ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory])
            _ = waitUntil(timeout: 5) { (try? lab.inNode(["curl", "-sf", "-o", "/dev/null", url("")], check: false).succeeded) == true }
        }

        deinit {
            stop()
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Stops the server (by its command line: `ip netns exec` may stand between).
        func stop() {
            _ = try? Shell.run(["pkill", "-KILL", "-f", "http.server \(port)"], check: false)
            _ = waitUntil(timeout: 3) { !process.isRunning }
        }

        func url(_ file: String) -> String { "http://127.0.0.1:\(port)/\(file)" }

        func publish(_ file: String, _ lines: [String]) throws {
            try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/" + file, atomically: true, encoding: .utf8)
        }
    }

    @Test(.enabled(if: Shell.isInstalled("python3"), "needs python3 for a loopback HTTP server"))
    func aURLFeedLoadsReloadsAndSurvivesTheServerGoingAway() throws {
        let env = try AgentLab(pods: 1)
        let server = try Server(in: env.lab)
        try server.publish("drop.txt", ["198.19.5.0/24", "198.19.6.7"])
        try env.startAgent(extraArguments: ["--no-cgroup"])
        let loaded = try env.podwall(["blocklist", "load", server.url("drop.txt"), "--name", "drop"], check: false)
        #expect(loaded.succeeded, "\(loaded.error)")
        #expect(try env.podwall(["blocklist", "check", "198.19.5.9"]).output.contains("is blocked"))

        // An agent polling the URL; a new version replaces the old one.
        env.stopAgent()
        try env.startAgent(extraArguments: ["--no-cgroup", "--feed", server.url("drop.txt"), "--feed-interval", "1"])
        sleep(1)
        try server.publish("drop.txt", ["198.19.6.7", "198.19.8.0/24"])
        let reloaded = waitUntil(timeout: 8) {
            (try? env.podwall(["blocklist", "check", "198.19.8.1"]).output.contains("is blocked")) == true
        }
        #expect(reloaded != nil, "new version not loaded; log:\n\(env.log)")
        #expect(try env.podwall(["blocklist", "check", "198.19.5.9"]).output.contains("is not blocked"))

        // Unreachable: the last good version stays.
        server.stop()
        let logged = waitUntil(timeout: 15) { env.log.contains("stays enforced") }
        #expect(logged != nil, "the failure is logged: \(env.log)")
        #expect(try env.podwall(["blocklist", "check", "198.19.8.1"]).output.contains("is blocked"))
    }

    @Test(.enabled(if: Shell.isInstalled("python3"), "needs python3 for a loopback HTTP server"))
    func aBadFeedFromAURLIsRejectedWhole() throws {
        let env = try AgentLab(pods: 1)
        let server = try Server(in: env.lab)
        try server.publish("bad.txt", ["198.19.9.1", "300.1.2.3"])
        try env.startAgent(extraArguments: ["--no-cgroup"])
        let result = try env.podwall(["blocklist", "load", server.url("bad.txt")], check: false)
        #expect(!result.succeeded)
        #expect(result.error.contains("bad.txt:2: '300.1.2.3' is not an IPv4 address"), "\(result.error)")
        #expect(try env.podwall(["blocklist", "check", "198.19.9.1"]).output.contains("is not blocked"))
    }
}
