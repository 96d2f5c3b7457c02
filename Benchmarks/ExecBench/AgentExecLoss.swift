import Foundation
import PodwallBenchSupport
import PodwallLab

extension ExecBench {
    /// The same paced execs against `podwall run` itself, watching the lab
    /// as in production: what its /metrics say the kernel counted and what
    /// each of its stages lost (the process ring, the queue from the ring's
    /// reader to the process service), and the agent's CPU time.
    func agentExecLoss(rates: [Int], seconds: Int, workers: Int, loop: SpawnLoop, binary: String) throws -> String {
        let agent = LabAgent(lab: lab, binary: binary)
        try agent.start()
        defer {
            agent.stop()
            agent.removeFiles()
        }
        guard let pid = agent.pid else { throw ExecBenchFailure(description: "the agent is not running; see \(agent.logFile)") }
        var lines = [
            "| execs of the static program from the pod against `podwall run`, \(seconds) s per rate | execs/s reached | podwall_process_execs_total added | lost: process_ring_buffer | lost: process_queue | the agent's CPU µs per exec |",
            "|---|---|---|---|---|---|"
        ]
        let stages = ["process_ring_buffer", "process_queue"].map { "podwall_events_lost_total{stage=\"\($0)\"}" }
        for rate in rates {
            let before = try agent.metrics()
            let cpuBefore = processCPUSeconds(pid)
            let result = try loop.run(count: (rate == 0 ? 10_000 : rate) * seconds, rate: rate, workers: workers, bench: self)
            sleep(2)  // the agent's queue drains
            let after = try agent.metrics()
            let cpu = processCPUSeconds(pid) - cpuBefore
            func added(_ series: String) -> Int { Int((after[series] ?? 0) - (before[series] ?? 0)) }
            let execs = added("podwall_process_execs_total")
            progress(
                "agent exec loss, \(rate)/s: \(Int(result.execsPerSecond)) execs/s, \(execs) counted, lost \(stages.map { added($0) })")
            lines.append(
                "| \(rate == 0 ? "as fast as it goes" : "\(rate)/s") | \(Int(result.execsPerSecond)) | \(execs) | "
                    + stages.map { "\(added($0))" }.joined(separator: " | ") + " | \(format(cpu * 1e6 / Double(max(1, execs)), 1)) |")
        }
        let alerts = agent.alerts().count
        lines.append("\nAlerts written meanwhile: \(alerts).")
        return lines.joined(separator: "\n")
    }
}

extension ExecBench {
    /// Exec loss at 1,000, 2,500 and 5,000 execs/s and as fast as the
    /// machine goes: in the ring's reader, then in `podwall run` (the
    /// binary built beside this bench).
    func execLosses(seconds: Int, workers: Int) throws -> String {
        let podwall = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("podwall").path
        let loop = try SpawnLoop.build(for: container)
        let rates = [1_000, 2_500, 5_000, 0]
        let reader = try execLoss(rates: rates, seconds: seconds, workers: workers, loop: loop)
        let agent = try agentExecLoss(
            rates: rates, seconds: seconds, workers: workers, loop: loop, binary: podwall)
        return reader + "\n\n" + agent
    }
}
