import PodwallBenchSupport
import PodwallKernel

/// One place's loops with and without podwall, round by round.
struct PairedLoops {
    var with: [ExecLoop.Result] = []
    var without: [ExecLoop.Result] = []
    /// The ring reader's CPU time per exec in each round with podwall.
    var readerNanosecondsPerExec: [Double] = []

    /// Wall-clock rate with ÷ without.
    var rateRatios: [Double] { zip(with, without).map { $0.execsPerSecond / $1.execsPerSecond } }
    /// CPU per exec without ÷ with: the rate ratio a CPU-bound loop would see, unmoved by other load on the machine.
    var cpuRatios: [Double] { zip(with, without).map { $1.cpuNanosecondsPerExec / $0.cpuNanosecondsPerExec } }
    /// The same with the reader's CPU counted as the loop's.
    var cpuRatiosWithReader: [Double] {
        zip(zip(with, without), readerNanosecondsPerExec).map { $0.1.cpuNanosecondsPerExec / ($0.0.cpuNanosecondsPerExec + $1) }
    }
}

extension ExecBench {
    /// Rounds of the loop in the pod and on the host, each place with
    /// podwall loaded (its ring read concurrently) and without it (released,
    /// links closed) back to back, in the order AB BA AB… so that a drift
    /// of the VM weighs on both alike.
    func pairedRounds(_ rounds: Int) throws -> String {
        var loops: [ExecLoop.Place: PairedLoops] = [:]
        var lost: UInt64 = 0
        for round in 0...rounds {  // round 0 warms up and is not counted
            for place in ExecLoop.Place.allCases {
                for loaded in round % 2 == 1 ? [true, false] : [false, true] {
                    guard loaded else {
                        let result = try run(place)
                        if round > 0 { loops[place, default: .init()].without.append(result) }
                        continue
                    }
                    let monitor = try loadMonitor()
                    let drain = try EventDrain(monitor)
                    let result = try run(place)
                    let received = drain.finish()
                    lost += monitor.counters.ringBufferDrops
                    if round > 0 {
                        loops[place, default: .init()].with.append(result)
                        loops[place]!.readerNanosecondsPerExec.append(Double(received.readerNanoseconds) / Double(loop.count))
                    }
                }
                if let paired = loops[place], round > 0 {
                    progress(
                        "round \(round) \(place): \(Int(paired.without.last!.execsPerSecond)) execs/s without, \(Int(paired.with.last!.execsPerSecond)) with; CPU ratio \(format(paired.cpuRatios.last!))"
                    )
                }
            }
        }
        return report(loops, rounds: rounds, lost: lost)
    }

    private func report(_ loops: [ExecLoop.Place: PairedLoops], rounds: Int, lost: UInt64) -> String {
        var lines = [
            "| round | place | execs/s without | with | ratio | CPU µs per exec without | with | ratio (without ÷ with) | reader's CPU µs per exec |",
            "|---|---|---|---|---|---|---|---|---|"
        ]
        for index in 0..<rounds {
            for place in ExecLoop.Place.allCases {
                let paired = loops[place]!
                let (with, without) = (paired.with[index], paired.without[index])
                lines.append(
                    "| \(index + 1) | \(place) | \(Int(without.execsPerSecond)) | \(Int(with.execsPerSecond)) | \(format(paired.rateRatios[index])) | "
                        + "\(format(without.cpuNanosecondsPerExec / 1000, 1)) | \(format(with.cpuNanosecondsPerExec / 1000, 1)) | "
                        + "\(format(paired.cpuRatios[index])) | \(format(paired.readerNanosecondsPerExec[index] / 1000, 1)) |")
            }
        }
        lines += [
            "",
            "| fork+exec of /bin/true, \(loop.count) per loop, \(rounds) paired rounds: median (middle half) | execs/s without podwall | with podwall | rate ratio with ÷ without | CPU ratio without ÷ with | CPU ratio, reader's CPU counted |",
            "|---|---|---|---|---|---|"
        ]
        for place in ExecLoop.Place.allCases {
            let paired = loops[place]!
            let name = place == .pod ? "in the pod (runc container)" : "on the host, outside the pods' cgroup"
            lines.append(
                "| \(name) | \(summary(paired.without.map(\.execsPerSecond), 0)) | \(summary(paired.with.map(\.execsPerSecond), 0)) | "
                    + "\(summary(paired.rateRatios)) | \(summary(paired.cpuRatios)) | \(summary(paired.cpuRatiosWithReader)) |")
        }
        lines.append("\nEvents lost from the ring in the rounds with podwall: \(lost).")
        return lines.joined(separator: "\n")
    }
}
