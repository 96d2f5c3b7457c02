import PodwallABI
import PodwallBenchSupport
import PodwallKernel

extension ExecBench {
    /// How the ring is read while the programs are timed. A reader that
    /// keeps up is woken for every event: `bpf_ringbuf_submit` sends the
    /// wakeup (an irq_work) from inside the program when the ring was empty,
    /// so its cost lands in the programs' run time.
    enum Reading: String, CaseIterable {
        case concurrent = "ring read concurrently (as the agent)"
        case afterEachLoop = "ring read after each loop (one wakeup per loop)"
    }

    /// The time the kernel spends in the exec, fork and exit programs
    /// (BPF run-time statistics) during the loop in the pod, where each
    /// /bin/true is one fork, one exec and one exit reported, and on the
    /// host, where the programs only find that the process is not in a pod.
    /// The counts include whatever else forked on the machine meanwhile
    /// (runc, the shells starting the loops): a few runs in thousands.
    func runTimes(rounds: Int) throws -> String {
        let statistics = try BPFProgram.enableRunTimeStatistics()
        defer { withExtendedLifetime(statistics) {} }
        let names = [PW_PROG_EXEC_NAME, PW_PROG_FORK_NAME, PW_PROG_EXIT_NAME]
        var perExec: [String: [Double]] = [:]
        var perRun: [String: [String: [Double]]] = [:]
        var share: [String: [Double]] = [:]
        var rows: [String] = []  // in the order first measured
        var drops: UInt64 = 0
        for round in 1...rounds {
            for reading in Reading.allCases {
                let monitor = try loadMonitor()
                let drain = try EventDrain(monitor, concurrent: reading == .concurrent)
                let programs = try names.map { try monitor.object.program(named: $0) }
                for place in ExecLoop.Place.allCases {
                    let row = place == .pod ? "in the pod (reported), \(reading.rawValue)" : "on the host (filtered out)"
                    let before = try programs.map { try $0.runStatistics() }
                    let cpuPerExec = try run(place).cpuNanosecondsPerExec
                    let after = try programs.map { try $0.runStatistics() }
                    drain.takeAvailable()
                    guard place == .pod || reading == .concurrent else { continue }  // one host row is enough
                    if !rows.contains(row) { rows.append(row) }
                    var total: Double = 0
                    for (index, name) in names.enumerated() {
                        let nanoseconds = Double(after[index].nanoseconds - before[index].nanoseconds)
                        total += nanoseconds
                        perRun[row, default: [:]][name, default: []].append(
                            nanoseconds / Double(max(1, after[index].runs - before[index].runs)))
                    }
                    perExec[row, default: []].append(total / Double(loop.count))
                    // The programs' time per /bin/true against the loop's CPU time per /bin/true (which includes it).
                    share[row, default: []].append(total / Double(loop.count) / cpuPerExec)
                    progress("run time round \(round), \(row): \(Int(total / Double(loop.count))) ns per exec")
                }
                _ = drain.finish()
                drops += monitor.counters.ringBufferDrops
            }
        }

        var lines = [
            "| BPF run-time statistics, \(rounds) loops of \(loop.count) each | exec program, ns/run | fork program, ns/run | exit program, ns/run | all three, ns per /bin/true | share of the loop's CPU time per /bin/true |",
            "|---|---|---|---|---|---|"
        ]
        for row in rows {
            let programs = names.map { summary(perRun[row]![$0]!, 0) }.joined(separator: " | ")
            lines.append("| \(row) | \(programs) | \(summary(perExec[row]!, 0)) | \(format(median(share[row]!) * 100, 2)) % |")
        }
        lines.append("\nMedians (middle half) over the loops; ring drops meanwhile: \(drops).")
        return lines.joined(separator: "\n")
    }
}
