import Foundation
import PodwallLab

/// One `podwall run` under test, pinned to one core: its own pin root, API
/// port, log and alerts file; attached to no interface (the producer writes
/// its events ring), no cgroup hooks or process events, alerts only.
final class LiveAgent: @unchecked Sendable {  // used from the bench's thread; `stop` also from a signal handler, once
    let label: String
    let binary: String
    let pinRoot: String
    let logFile: String
    let alertsFile: String
    private let port: Int
    private let process: Process
    /// The ring reader's thread (ring → decode → queue); nil if not found.
    private(set) var readerThread: String?

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(label: String, binary: String, index: Int, core: Int) throws {
        let id = "pw-ingest-\(getpid())-\(index)"
        self.label = label
        self.binary = binary
        pinRoot = "/sys/fs/bpf/\(id)"
        logFile = "/tmp/\(id).log"
        alertsFile = "/tmp/\(id)-alerts.jsonl"
        port = 20000 + Int(getpid()) % 20000 + index
        process = try Shell.spawn(
            [
                "taskset", "-c", "\(core)", binary, "run", "--pin-root", pinRoot, "--interfaces", "pwingest-none",
                "--no-cgroup", "--alert-only", "--no-captures", "--alerts", alertsFile, "--api", "127.0.0.1:\(port)",
                "--stats-interval", "0.5"
            ], logFile: logFile)
        let deadline = Date().addingTimeInterval(30)
        while (try? Shell.run(["curl", "-sf", url("/readyz")], check: false))?.succeeded != true {
            guard process.isRunning, Date() < deadline else {
                stop(removingFiles: false)
                throw Failure(description: "\(label): the agent did not become ready; see \(logFile)")
            }
            usleep(100_000)
        }
        for _ in 0..<20 where readerThread == nil {
            readerThread = findReaderThread()
            usleep(50_000)
        }
    }

    /// The thread waiting in epoll_wait on the events ring. Found by what it
    /// does, not by name: its `Thread.name` ("podwall-ringbuf") never reaches
    /// the kernel, it carries the name of the thread that started it.
    private func findReaderThread() -> String? {
        let proc = "/proc/\(process.processIdentifier)"
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: proc + "/task")) ?? []
        return tasks.first { task in
            // proc(5): the syscall number and its first argument; 232 epoll_wait, 281 epoll_pwait (x86-64).
            let call = ((try? String(contentsOfFile: "\(proc)/task/\(task)/syscall", encoding: .utf8)) ?? "").split(separator: " ")
            guard call.count > 1, ["232", "281"].contains(call[0]), let epoll = Int(call[1].dropFirst(2), radix: 16),
                let info = try? String(contentsOfFile: "\(proc)/fdinfo/\(epoll)", encoding: .utf8)
            else { return false }
            return info.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ")
                return fields.first == "tfd:" && fields.count > 1
                    && (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(proc)/fd/\(fields[1])")) == "anon_inode:bpf-map"
            }
        }
    }

    var pid: Int32 { process.processIdentifier }

    private func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every series of a /metrics scrape, by name with its labels.
    func metrics() throws -> [String: Double] {
        let text = try Shell.run(["curl", "-sf", url("/metrics")]).output
        return Dictionary(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
                return (String(line[..<space]), value)
            }, uniquingKeysWith: { $1 })
    }

    /// Records lost so far: the ring was full (counted by the programs), or the queue to the detectors.
    func lost() throws -> (ring: Double, queue: Double) {
        let series = try metrics()
        return (
            series["podwall_events_lost_total{stage=\"kernel_ring_buffer\"}"] ?? .nan,
            series["podwall_events_lost_total{stage=\"userspace_queue\"}"] ?? .nan
        )
    }

    /// CPU seconds the agent used: all its threads, and its ring reader alone.
    func cpu() -> (total: Double, reader: Double) {
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pid = process.processIdentifier
        let reader = readerThread.flatMap { Self.ticks("/proc/\(pid)/task/\($0)/stat") } ?? 0
        return (Double(Self.ticks("/proc/\(pid)/stat") ?? 0) / tick, Double(reader) / tick)
    }

    /// A task's user + system time in clock ticks (proc(5): fields 14 and 15).
    private static func ticks(_ path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// Waits until the agent has been idle for a fifth of a second: the ring
    /// read and the queue worked off. Returns the seconds it took.
    @discardableResult
    func waitUntilIdle(timeout: Double = 60) -> Double {
        let start = Date()
        var last = cpu().total
        var quiet = 0
        while quiet < 2 && Date().timeIntervalSince(start) < timeout {
            usleep(100_000)
            let now = cpu().total
            quiet = now - last <= 0.01 ? quiet + 1 : 0
            last = now
        }
        return Date().timeIntervalSince(start)
    }

    /// Records the ring reader handed to the queue so far, from the agent's
    /// latest stats line (written every half second).
    func delivered() -> Int? {
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        guard let range = log.range(of: "events_delivered=", options: .backwards) else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    var alertsWritten: Int {
        ((try? String(contentsOfFile: alertsFile, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    /// SIGTERM, then `podwall uninstall` of its pin root.
    func stop(removingFiles: Bool = true) {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        _ = try? Shell.run([binary, "uninstall", "--pin-root", pinRoot], check: false)
        guard removingFiles else { return }
        for file in [logFile, alertsFile] { try? FileManager.default.removeItem(atPath: file) }
    }
}
