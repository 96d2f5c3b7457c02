import Foundation
import PodwallBenchSupport
import PodwallKernel

extension ExecBench {
    /// Rounds of the read-only open loop in the pod and on the host, each
    /// place with the file programs not attached, an empty program on their
    /// open tracepoint (what any program there costs), the file programs
    /// attached with no rules, and with the default rules, one window after
    /// the other in an order that turns each round (ABCD, BCDA…) so that a drift of
    /// the VM weighs on all alike. The process programs are loaded
    /// throughout, their ring read concurrently, as the agent runs them;
    /// BPF run-time statistics stay off (they would add their own clock
    /// reads to the programs).
    func fileOpenRounds(_ rounds: Int, opens: Int, loop: OpenLoop) throws -> (table: String, addedNanoseconds: [ExecLoop.Place: Double]) {
        let monitor = try loadMonitor()
        let drain = try EventDrain(monitor)
        var results: [ExecLoop.Place: [FileSetup: [OpenLoop.Result]]] = [:]
        for round in 0...rounds {  // round 0 warms up and is not counted
            for place in ExecLoop.Place.allCases {
                let setups = FileSetup.allCases
                for index in setups.indices {
                    let setup = setups[(index + round) % setups.count]
                    let files = try attach(setup, to: monitor)
                    let result = try loop.run(place, .read, Self.readPath, count: opens, bench: self)
                    withExtendedLifetime(files) {}
                    if round > 0 { results[place, default: [:]][setup, default: []].append(result) }
                }
                if round > 0, let last = results[place] {
                    let rates = FileSetup.allCases.map { "\(Int(last[$0]!.last!.opensPerSecond))" }.joined(separator: " / ")
                    progress(
                        "open round \(round) \(place): \(rates) opens/s (\(FileSetup.allCases.map(\.rawValue).joined(separator: " / ")))")
                }
            }
        }
        _ = drain.finish()
        var added: [ExecLoop.Place: Double] = [:]
        var lines = [
            "| read-only open+close of \(Self.readPath), \(opens) per loop, \(rounds) rounds: median (middle half) | opens/s, file programs not attached | attached, no rules | attached, default rules | rate ratio, default rules ÷ not attached | CPU ratio, not attached ÷ default rules | CPU ratio, not attached ÷ empty program | CPU ns added per open: empty program | no rules | default rules |",
            "|---|---|---|---|---|---|---|---|---|---|"
        ]
        for place in ExecLoop.Place.allCases {
            let byState = results[place]!
            let (detached, empty) = (byState[.detached]!, byState[.emptyProgram]!)
            let (none, defaults) = (byState[.noRules]!, byState[.defaultRules]!)
            let rateRatios = zip(defaults, detached).map { $0.opensPerSecond / $1.opensPerSecond }
            let cpuRatios = zip(detached, defaults).map { $0.cpuNanosecondsPerOpen / $1.cpuNanosecondsPerOpen }
            let floorRatios = zip(detached, empty).map { $0.cpuNanosecondsPerOpen / $1.cpuNanosecondsPerOpen }
            func addedBy(_ windows: [OpenLoop.Result]) -> [Double] {
                zip(windows, detached).map { $0.cpuNanosecondsPerOpen - $1.cpuNanosecondsPerOpen }
            }
            let addedNone = addedBy(none)
            added[place] = median(addedNone)
            let name = place == .pod ? "in the pod (runc container)" : "on the host, outside the pods' cgroup"
            lines.append(
                "| \(name) | \(summary(detached.map(\.opensPerSecond), 0)) | \(summary(none.map(\.opensPerSecond), 0)) | "
                    + "\(summary(defaults.map(\.opensPerSecond), 0)) | \(summary(rateRatios)) | \(summary(cpuRatios)) | "
                    + "\(summary(floorRatios)) | \(summary(addedBy(empty), 0)) | \(summary(addedNone, 0)) | \(summary(addedBy(defaults), 0)) |"
            )
        }
        let cpu = ExecLoop.Place.allCases.map { place in
            "\(place) "
                + FileSetup.allCases.map { format(median(results[place]![$0]!.map(\.cpuNanosecondsPerOpen)), 0) }.joined(separator: " / ")
        }
        let setups = FileSetup.allCases.map(\.rawValue).joined(separator: " / ")
        lines.append("\nThe loop's CPU ns per open (median; \(setups)): \(cpu.joined(separator: "; ")).")
        return (lines.joined(separator: "\n"), added)
    }

    /// A loop the open programs are timed on.
    struct OpenCase {
        let row: String
        let place: ExecLoop.Place
        let access: OpenLoop.Access
        let path: String
        let setup: FileSetup
    }

    /// The open-exit program's own time per run (BPF run-time statistics)
    /// for read-only opens of an unwatched name in the pod (no rules, the
    /// default rules) and on the host (filtered out), and for write opens
    /// in the pod, unwatched (the dentry walk and the prefix lookup) and
    /// watched (the same and an event; the ring read concurrently, so each
    /// event's forced wakeup of the reader is in the program's time).
    /// `added` is the CPU time per open the no-rules program added in the
    /// paired rounds: what it adds beyond the program's own run is the
    /// tracepoint's.
    func fileOpenRunTimes(rounds: Int, opens: Int, loop: OpenLoop, added: [ExecLoop.Place: Double]) throws -> String {
        let statistics = try BPFProgram.enableRunTimeStatistics()
        defer { withExtendedLifetime(statistics) {} }
        let cases = [
            OpenCase(
                row: "read on the host, an empty program on the tracepoint (the statistics' own floor)", place: .host, access: .read,
                path: Self.readPath, setup: .emptyProgram),
            OpenCase(row: "read, unwatched name, in the pod, no rules", place: .pod, access: .read, path: Self.readPath, setup: .noRules),
            OpenCase(
                row: "read, unwatched name, in the pod, default rules", place: .pod, access: .read, path: Self.readPath,
                setup: .defaultRules),
            OpenCase(
                row: "read on the host (filtered out), default rules", place: .host, access: .read, path: Self.readPath,
                setup: .defaultRules),
            OpenCase(
                row: "write (O_WRONLY\\|O_CREAT\\|O_TRUNC) of \(Self.unwatchedWritePath), unwatched, in the pod, default rules",
                place: .pod, access: .write, path: Self.unwatchedWritePath, setup: .defaultRules),
            OpenCase(
                row: "write of \(Self.watchedWritePath), watched (event), in the pod, default rules + \(Self.watchedRule.path)",
                place: .pod, access: .write, path: Self.watchedWritePath, setup: .defaultRules)
        ]
        let monitor = try loadMonitor()
        let drain = try EventDrain(monitor)
        try FileManager.default.createDirectory(atPath: container.sharedDirectory + "/watched", withIntermediateDirectories: true)
        var perRun: [String: [Double]] = [:]
        var runsPerOpen: [String: [Double]] = [:]
        var cpuPerOpen: [String: [Double]] = [:]
        for round in 1...rounds {
            for setup in [FileSetup.emptyProgram, .noRules, .defaultRules] {
                let (attached, program) = try attachTimed(setup, to: monitor)
                defer { withExtendedLifetime(attached) {} }
                for openCase in cases where openCase.setup == setup {
                    let before = try program.runStatistics()
                    let result = try loop.run(openCase.place, openCase.access, openCase.path, count: opens, bench: self)
                    let after = try program.runStatistics()
                    let runs = Double(after.runs - before.runs)
                    perRun[openCase.row, default: []].append(Double(after.nanoseconds - before.nanoseconds) / max(1, runs))
                    runsPerOpen[openCase.row, default: []].append(runs / Double(opens))
                    cpuPerOpen[openCase.row, default: []].append(result.cpuNanosecondsPerOpen)
                    progress("open run time round \(round), \(openCase.row): \(Int(perRun[openCase.row]!.last!)) ns per run")
                }
            }
        }
        let received = drain.finish()
        let counters = monitor.counters
        var lines = [
            "| BPF run-time statistics of pw_sys_exit_openat, \(rounds) loops of \(opens) opens each: median (middle half) | ns per run | runs counted per loop open | the loop's CPU ns per open | the program's share |",
            "|---|---|---|---|---|"
        ]
        for openCase in cases {
            let row = openCase.row
            let share = median(zip(perRun[row]!, cpuPerOpen[row]!).map { $0 / $1 })
            lines.append(
                "| \(row) | \(summary(perRun[row]!, 0)) | \(summary(runsPerOpen[row]!, 2)) | \(summary(cpuPerOpen[row]!, 0)) | \(format(share * 100, 1)) % |"
            )
        }
        let floor = median(perRun[cases[0].row]!)
        for openCase in cases.dropFirst().filter({ $0.access == .read }) {
            let own = median(perRun[openCase.row]!) - floor
            lines.append(
                "\nLess the empty program's run, \(openCase.row): \(format(own, 0)) ns of program per open, \(format(own / median(cpuPerOpen[openCase.row]!) * 100, 1)) % of the loop's CPU per open."
            )
        }
        for place in ExecLoop.Place.allCases {
            let program = median(perRun[cases.first { $0.place == place && $0.setup != .emptyProgram }!.row]!)
            lines.append(
                "\nThe tracepoint beyond the program, \(place): \(format(added[place]!, 0)) ns added per open (paired rounds, no rules) − \(format(program, 0)) ns of program = \(format(added[place]! - program, 0)) ns."
            )
        }
        lines.append(
            "File events received \(received.files), counted by the kernel \(counters.fileEvents), ring drops \(counters.ringBufferDrops).")
        return lines.joined(separator: "\n")
    }
}
