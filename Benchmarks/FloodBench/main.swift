// Detection under a flood (#19 "Numbers"): one long-lived `podwall run` in a
// lab; each repetition adds four new pods and, during a 10-s
// `hping3 -S -p 80 --flood` from the first at the second, an `nmap -sS` scan
// of the second from the third pod, and from the fourth an SSH banner to port
// 80 of an internet host (a tunnel) and, after a quiet trickle to the
// internet, a 200 MB push (exfiltration). Per repetition: each attack's
// alert (tool start → decision), the flood alert, each pod's lost events
// (podwall_interface_events_lost_total) and podwall_events_lost_total by
// stage, the agent's CPU (utime + stime over the flood) and peak RSS.
// The agent runs with --alert-only (a quarantine or block would change the
// next repetition's traffic) and LabAgent's short exfiltration settings.
// Run as root:
//   swift build -c release --product podwall --product podwall-lab --product podwall-flood-bench
//   .build/release/podwall-flood-bench [repetitions] [podwall binary] [--keep-files]
import Foundation
import PodwallBenchSupport
import PodwallLab
import Synchronization

let keepFiles = CommandLine.arguments.contains("--keep-files")
let arguments = Array(CommandLine.arguments.dropFirst().filter { $0 != "--keep-files" })
let repetitions = arguments.first.flatMap { Int($0) } ?? 20
let binary =
    arguments.dropFirst().first
    ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("podwall").path
guard geteuid() == 0, repetitions > 0, FileManager.default.isExecutableFile(atPath: binary) else {
    progress("usage (as root): podwall-flood-bench [repetitions] [podwall binary]  (binary: \(binary))")
    exit(2)
}
for tool in ["hping3", "nmap", "nc", "curl", "timeout"] where !Shell.isInstalled(tool) {
    progress("podwall-flood-bench: \(tool) is not installed")
    exit(2)
}

let lab = try Lab(pods: 0)
let agent = LabAgent(lab: lab, binary: binary)
let cleanedUp = Atomic<Bool>(false)
/// The agent, then the lab (namespaces, pins, cgroup, every process started in it).
@Sendable func cleanUp(keepFiles: Bool) {
    guard !cleanedUp.exchange(true, ordering: .relaxed) else { return }
    agent.stop()
    lab.teardown()
    if keepFiles {
        progress("kept: \(agent.logFile), \(agent.alertsFile)")
    } else {
        agent.removeFiles()
    }
}
let interrupts = onInterrupt { cleanUp(keepFiles: true) }

func percent(_ part: Int, _ whole: Int) -> String { "\(part)/\(whole)" }
func ms(_ value: Double?) -> String { value.map { format($0, 0) } ?? "missed" }
func stats(_ values: [Double], _ digits: Int = 0) -> String {
    guard !values.isEmpty else { return "-" }
    return "\(format(median(values), digits)) (\(format(values.min()!, digits))–\(format(values.max()!, digits)))"
}

var results: [RepetitionResult] = []
do {
    try lab.addInternet()
    try lab.makeTemporaryDirectory()
    try agent.start(extraArguments: ["--alert-only"])
    guard let pid = agent.pid else { throw BenchFailure("the agent is not running") }
    let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    progress("lab \(lab.id); agent pid \(pid) (\(comm ?? "?")), log \(agent.logFile)")
    let bench = FloodBench(lab: lab, agent: agent, probe: AgentProbe(agent: agent, pid: pid))
    try bench.startSinks()
    for index in 1...repetitions {
        let result = try bench.run(index)
        results.append(result)
        var line = "rep \(index)/\(repetitions) (load \(result.loadAverage)):"
        for attack in Attack.allCases {
            line +=
                " \(attack.rawValue) \(ms(result.latencyMs[attack]))\(result.inBound(attack) || !result.detected(attack) ? "" : " (over)")"
        }
        line += " (push shell \(ms(result.pushShellMs)), 200 MB sent \(ms(result.pushDoneMs)))"
        line +=
            "; lost "
            + ["flooder", "target", "scanner", "third"].map { "\($0) \(result.interfaceLost[$0].map { format($0, 0) } ?? "-")" }
            .joined(separator: ", ")
        line += "; stages " + result.stageLost.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 0))" }.joined(separator: ", ")
        line += "; CPU \(format(result.cpuPercent, 1)) %, RSS \(format(result.rssBeforeMiB, 1)) → peak \(format(result.rssPeakMiB, 1)) MiB"
        line += "; \(format((result.floodSegmentsPerSecond ?? 0) / 1000, 0))k SYN/s at the target"
        if !result.otherAlerts.isEmpty { line += "; other alerts: " + result.otherAlerts.joined(separator: ", ") }
        progress(line)
    }
} catch {
    progress("podwall-flood-bench: \(error)")
    cleanUp(keepFiles: true)
    exit(1)
}
let hwm = agent.pid.map { AgentProbe(agent: agent, pid: $0).statusMiB("VmHWM") } ?? .nan
cleanUp(keepFiles: keepFiles)
withExtendedLifetime(interrupts) {}

let count = results.count
print("\(count) repetitions against one agent (\(binary), --alert-only), new pods each; flood \(FloodBench.floodSeconds) s.\n")
print(
    "| rep | scan ms | tunnel ms | push ms | flood ms | lost: flooder / target / scanner / third | lost by stage | agent CPU, % of a core | RSS before → peak, MiB | SYN/s at the target | load avg | other alerts |"
)
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for result in results {
    let lost = ["flooder", "target", "scanner", "third"].map { result.interfaceLost[$0].map { format($0, 0) } ?? "-" }.joined(
        separator: " / ")
    let stages = result.stageLost.values.reduce(0, +)
    print(
        "| \(result.index) | \(ms(result.latencyMs[.scan])) | \(ms(result.latencyMs[.tunnel])) | \(ms(result.latencyMs[.push])) (\(ms(result.pushDoneMs))) | \(ms(result.latencyMs[.flood]))"
            + " | \(lost) | \(format(stages, 0)) | \(format(result.cpuPercent, 1)) | \(format(result.rssBeforeMiB, 1)) → \(format(result.rssPeakMiB, 1)) | "
            + "\(format((result.floodSegmentsPerSecond ?? 0) / 1000, 0))k | \(result.loadAverage) | \(result.otherAlerts.isEmpty ? "-" : result.otherAlerts.joined(separator: ", ")) |"
    )
}
print(
    "\n| attack | detected | within bound | tool start → decision, ms: median (min–max) | agent's detection_latency_ms: median (min–max) |")
print("|---|---|---|---|---|")
for attack in Attack.allCases {
    let latencies = results.compactMap { $0.latencyMs[attack] }
    print(
        "| \(attack.rawValue) (\(attack.kind), ≤ \(format(attack.boundMs, 0)) ms) | \(percent(results.count { $0.detected(attack) }, count)) | "
            + "\(percent(results.count { $0.inBound(attack) }, count)) | \(stats(latencies)) | \(stats(results.compactMap { $0.agentLatencyMs[attack] }, 1)) |"
    )
}
print("\n| measure | median (min–max) over \(count) floods |")
print("|---|---|")
for role in ["flooder", "target", "scanner", "third"] {
    let values = results.compactMap { $0.interfaceLost[role] }
    print("| events lost, \(role)'s interface (total \(format(values.reduce(0, +), 0))) | \(stats(values)) |")
}
let stageNames = Set(results.flatMap { $0.stageLost.keys }).sorted()
for stage in stageNames {
    let values = results.map { $0.stageLost[stage] ?? 0 }
    print("| podwall_events_lost_total{stage=\"\(stage)\"}, per flood (total \(format(values.reduce(0, +), 0))) | \(stats(values)) |")
}
print("| push: the pod's shell started, ms after launch | \(stats(results.compactMap(\.pushShellMs))) |")
print("| push: 200 MB sent (nc done), ms after launch | \(stats(results.compactMap(\.pushDoneMs))) |")
print("| flooder's flows summarized in the kernel | \(stats(results.compactMap(\.summarized))) |")
print("| SYNs reaching the target, per second | \(stats(results.compactMap(\.floodSegmentsPerSecond))) |")
print("| agent CPU over the flood, % of one core | \(stats(results.map(\.cpuPercent), 1)) |")
print("| agent RSS before the flood, MiB | \(stats(results.map(\.rssBeforeMiB), 1)) |")
print("| agent peak RSS during the flood (sampled every 100 ms), MiB | \(stats(results.map(\.rssPeakMiB), 1)) |")
print("| agent VmHWM at the end, MiB | \(format(hwm, 1)) |")
print("| flood technique reported | \(Set(results.compactMap(\.floodTechnique)).sorted().joined(separator: ", ")) |")
print("| repetitions with other alerts from their pods | \(results.count { !$0.otherAlerts.isEmpty }) |")
