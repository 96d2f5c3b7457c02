import PodwallBenchSupport
import PodwallKernel

extension ExecBench {
    /// Rounds of the loop in the pod and on the host, with podwall loaded
    /// (its ring read concurrently) and without it (released, links
    /// closed), in the order AB BA AB… so that a drift in the VM weighs on
    /// both alike. Each round's ratio pairs two loops run seconds apart.
    func pairedRounds(_ rounds: Int) throws -> String {
        var with: [ExecLoop.Place: [Double]] = [:]
        var without: [ExecLoop.Place: [Double]] = [:]
        var lost: UInt64 = 0
        for round in 0...rounds {  // round 0 warms up and is not counted
            for loaded in round % 2 == 1 ? [true, false] : [false, true] {
                var rates: [ExecLoop.Place: Double] = [:]
                if loaded {
                    let monitor = try loadMonitor()
                    let drain = try EventDrain(monitor)
                    for place in ExecLoop.Place.allCases { rates[place] = try rate(place) }
                    _ = drain.finish()
                    lost += monitor.counters.ringBufferDrops
                } else {
                    for place in ExecLoop.Place.allCases { rates[place] = try rate(place) }
                }
                guard round > 0 else { continue }
                for (place, value) in rates {
                    if loaded { with[place, default: []].append(value) } else { without[place, default: []].append(value) }
                }
                progress("round \(round) \(loaded ? "with" : "without"): pod \(Int(rates[.pod]!)), host \(Int(rates[.host]!)) execs/s")
            }
        }
        let ratios = ExecLoop.Place.allCases.reduce(into: [ExecLoop.Place: [Double]]()) { ratios, place in
            ratios[place] = zip(with[place]!, without[place]!).map { $0 / $1 }
        }
        var lines = [
            "| round | pod: without | pod: with | pod: ratio | host: without | host: with | host: ratio |",
            "|---|---|---|---|---|---|---|"
        ]
        for index in 0..<rounds {
            let cells = ExecLoop.Place.allCases.map { place in
                "\(Int(without[place]![index])) | \(Int(with[place]![index])) | \(format(ratios[place]![index]))"
            }
            lines.append("| \(index + 1) | " + cells.joined(separator: " | ") + " |")
        }
        lines += [
            "",
            "| fork+exec of /bin/true, \(loop.count) per loop, \(rounds) paired rounds | without podwall, execs/s: median (middle half) | with podwall | ratio with ÷ without, per round: median (middle half) |",
            "|---|---|---|---|"
        ]
        for place in ExecLoop.Place.allCases {
            let name = place == .pod ? "in the pod (runc container)" : "on the host, outside the pods' cgroup"
            lines.append(
                "| \(name) | \(summary(without[place]!, 0)) | \(summary(with[place]!, 0)) | \(summary(ratios[place]!)) |")
        }
        lines.append("\nEvents lost from the ring in the rounds with podwall: \(lost).")
        return lines.joined(separator: "\n")
    }
}
