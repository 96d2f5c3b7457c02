import Foundation
import PodwallBenchSupport
import PodwallLab
import Synchronization

/// What the bench reads of the lab's running agent: /proc (CPU, memory),
/// its /metrics and its alerts file.
struct AgentProbe: Sendable {
    let agent: LabAgent
    let pid: Int32

    /// The agent's user + system time so far, in seconds.
    func cpuSeconds() -> Double { processCPUSeconds(pid) }

    /// A field of /proc/<pid>/status in kB (VmRSS, VmHWM), as MiB.
    func statusMiB(_ field: String) -> Double {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kB = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return .nan }
        return kB / 1024
    }
}

/// Samples the agent's resident memory every `period` until stopped: the peak over a window.
final class RSSSampler: Sendable {
    private let state = Mutex((peak: 0.0, samples: 0, running: true))
    private let done = DispatchSemaphore(value: 0)

    init(_ probe: AgentProbe, period: Double = 0.1) {
        Thread.detachNewThread { [self] in
            while state.withLock({ $0.running }) {
                let rss = probe.statusMiB("VmRSS")
                state.withLock {
                    if rss.isFinite { $0.peak = max($0.peak, rss) }
                    $0.samples += 1
                }
                usleep(useconds_t(period * 1_000_000))
            }
            done.signal()
        }
    }

    /// Stops sampling; the peak RSS in MiB and the number of samples.
    func stop() -> (peakMiB: Double, samples: Int) {
        state.withLock { $0.running = false }
        done.wait()
        return state.withLock { ($0.peak, $0.samples) }
    }
}

/// One line of the alerts file, the fields the bench reads.
struct AlertRecord {
    let kind: String
    let interface: String?
    let timeNs: Int64
    let isUpdate: Bool
    let detectionLatencyMs: Double?
    let technique: String?

    init?(_ json: [String: Any]) {
        guard let kind = json["kind"] as? String, let time = (json["time_ns"] as? NSNumber)?.int64Value else { return nil }
        self.kind = kind
        interface = (json["source"] as? [String: Any])?["interface"] as? String
        timeNs = time
        isUpdate = json["is_update"] as? Bool == true
        detectionLatencyMs = (json["detection_latency_ms"] as? NSNumber)?.doubleValue
        technique = (json["evidence"] as? [String: Any])?["technique"] as? String
    }
}

func nowNs() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}
