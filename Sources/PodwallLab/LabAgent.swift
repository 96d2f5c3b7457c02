import Foundation
import Synchronization

/// `podwall run` in a lab's node namespace, as the demo and the evaluation
/// run it: the lab's pins and cgroup, short exfiltration intervals, alerts
/// and captures in files next to the lab.
public final class LabAgent: Sendable {
    public let lab: Lab
    public let binary: String
    /// This run's log; every start writes a new one.
    public var logFile: String {
        let starts = state.withLock { $0.starts }
        return "/tmp/\(lab.id)-agent\(starts > 1 ? "-\(starts)" : "").log"
    }
    public var alertsFile: String { "/tmp/\(lab.id)-alerts.jsonl" }
    /// Kept after the lab, like the log: the pcaps are for the user to open.
    public var captureDirectory: String { "/tmp/\(lab.id)-captures" }
    private let state = Mutex(State())

    private struct State {
        var process: Process?
        var starts = 0
    }

    public struct NotReady: Error, CustomStringConvertible {
        public let description: String
    }

    public init(lab: Lab, binary: String) {
        self.lab = lab
        self.binary = binary
    }

    public func start(extraArguments: [String] = []) throws {
        state.withLock { $0.starts += 1 }
        try? FileManager.default.removeItem(atPath: logFile)
        let process = try lab.spawn(
            lab.nodeCommand(
                [
                    binary, "run", "--pin-root", lab.pinRoot, "--interfaces", "veth-*", "--cgroup", lab.cgroupPath ?? "",
                    "--cluster-cidr", "\(Lab.ipv4Subnet).0/24", "--exfil-interval", "1", "--exfil-warmup", "4", "--exfil-floor", "20000000",
                    "--alerts", alertsFile, "--capture-dir", captureDirectory
                ] + extraArguments), logFile: logFile)
        state.withLock { $0.process = process }
        let deadline = Date().addingTimeInterval(20)
        while !log.contains("[PodwallAgent] ready") {
            guard Date() < deadline else { throw NotReady(description: "the agent did not become ready; see \(logFile)") }
            usleep(50_000)
        }
    }

    /// The running agent's process id (nsenter and env exec it, so it is
    /// `podwall run` itself); nil when stopped.
    public var pid: Int32? {
        state.withLock { $0.process }.flatMap { $0.isRunning ? $0.processIdentifier : nil }
    }

    /// SIGTERM, and wait for the agent to finish its shutdown.
    public func stop() {
        guard let process = state.withLock({ $0.process }), process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        state.withLock { $0.process = nil }
    }

    /// Deletes the logs, alerts and captures of every run (the evaluation's are intermediate).
    public func removeFiles() {
        let files = FileManager.default
        for run in 1...max(1, state.withLock { $0.starts }) {
            try? files.removeItem(atPath: "/tmp/\(lab.id)-agent\(run > 1 ? "-\(run)" : "").log")
        }
        try? files.removeItem(atPath: alertsFile)
        try? files.removeItem(atPath: captureDirectory)
    }

    /// The current run's log.
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Every alert written so far, as JSON objects.
    public func alerts() -> [[String: Any]] {
        ((try? String(contentsOfFile: alertsFile, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Every series of a /metrics scrape (the API's default address, in the
    /// node namespace), by name with its labels.
    public func metrics() throws -> [String: Double] {
        let text = try lab.inNode(["curl", "-sf", "-m", "5", "http://127.0.0.1:9464/metrics"]).output
        return Dictionary(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
                return (String(line[..<space]), value)
            }, uniquingKeysWith: { $1 })
    }

    @discardableResult
    public func podwall(_ arguments: [String]) throws -> Shell.Result {
        try Shell.run(lab.nodeCommand([binary] + arguments + ["--pin-root", lab.pinRoot]), check: false)
    }
}
