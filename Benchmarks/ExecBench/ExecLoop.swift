import Foundation
import PodwallLab
import Synchronization

/// Fork+exec loops of /bin/true in sh. The shell waits on a FIFO until it
/// is told to go, so that neither the start of `runc exec` nor of the
/// shell is counted: the wall time comes from `date` inside the shell, the
/// CPU time from the loop's cgroup (read when the shell is let go and when
/// it has exited), which other work on the machine does not inflate.
struct ExecLoop {
    /// /bin/true execs per loop.
    let count: Int

    func script(waitingOn fifo: String) -> String {
        let loop = "i=0; while [ $i -lt \(count) ]; do /bin/true; i=$((i+1)); done"
        return "read go < \(fifo); s=$(date +%s%N); \(loop); e=$(date +%s%N); echo $s $e"
    }

    /// Where a loop runs: in the lab pod's container, or on the host in a
    /// cgroup of the lab's own outside the pods' cgroup.
    enum Place: String, CaseIterable {
        case pod, host
    }

    struct Result {
        let execsPerSecond: Double
        /// CPU time charged to the loop's cgroup per /bin/true (fork, exec, exit, the shell's share).
        let cpuNanosecondsPerExec: Double
    }

    /// Runs the loop; `hostCgroup` is a directory of the cgroup v2 mount.
    func run(in place: ExecLoop.Place, lab: Lab, container: Container, mount: String, hostCgroup: String) throws -> Result {
        let fifo = container.sharedDirectory + "/go"  // /shared/go in the container
        unlink(fifo)
        guard mkfifo(fifo, 0o600) == 0 else { throw ExecBenchFailure(description: "mkfifo \(fifo): errno \(errno)") }
        defer { unlink(fifo) }
        let command: [String]
        let cgroup: String
        switch place {
        case .pod:
            command = lab.execCommand(in: container, ["sh", "-c", script(waitingOn: "/shared/go")])
            cgroup = mount + container.cgroup
        case .host:
            command = ["sh", "-c", "echo $$ > \(hostCgroup)/cgroup.procs && exec sh -c \"$1\"", "sh", script(waitingOn: fifo)]
            cgroup = hostCgroup
        }
        let starter = LoopStarter(fifo: fifo, cgroup: cgroup)
        let result = try Shell.run(command)
        starter.abandon()
        let after = try cpuUsageMicroseconds(cgroup)
        guard let before = starter.usageAtStart() else {
            throw ExecBenchFailure(description: "the \(place) loop ended without waiting for its start: \(result.error)")
        }
        let times = result.output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard times.count == 2, times[1] > times[0] else {
            throw ExecBenchFailure(description: "the \(place) loop printed \(result.output.debugDescription), not two times")
        }
        return Result(
            execsPerSecond: Double(count) / ((times[1] - times[0]) / 1e9),
            cpuNanosecondsPerExec: Double(after - before) * 1000 / Double(count))
    }
}

/// Waits on its own thread for the shell to open the FIFO, reads the
/// cgroup's CPU usage and lets the shell go.
final class LoopStarter: Sendable {
    private let usage = Mutex<UInt64?>(nil)
    private let abandoned = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(fifo: String, cgroup: String) {
        Thread { [self] in
            defer { done.signal() }
            while !abandoned.load(ordering: .relaxed) {
                // ENXIO until a reader has the FIFO open.
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                guard fd >= 0 else {
                    usleep(2_000)
                    continue
                }
                usage.withLock { $0 = try? cpuUsageMicroseconds(cgroup) }
                _ = write(fd, "go\n", 3)
                close(fd)
                return
            }
        }.start()
    }

    /// The command is over: stop waiting if the shell never opened the FIFO.
    func abandon() {
        abandoned.store(true, ordering: .relaxed)
        done.wait()
    }

    func usageAtStart() -> UInt64? { usage.withLock { $0 } }
}

/// `usage_usec` of a cgroup v2 directory's cpu.stat.
func cpuUsageMicroseconds(_ cgroup: String) throws -> UInt64 {
    let stat = try String(contentsOfFile: cgroup + "/cpu.stat", encoding: .utf8)
    guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("usage_usec ") }),
        let value = UInt64(line.dropFirst("usage_usec ".count))
    else { throw ExecBenchFailure(description: "no usage_usec in \(cgroup)/cpu.stat") }
    return value
}

struct ExecBenchFailure: Error, CustomStringConvertible {
    let description: String
}
