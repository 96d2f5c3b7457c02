import PodwallBenchSupport
import PodwallKernel

extension ExecBench {
    /// Execs from the pod paced at each rate (`SpawnLoop`: the machine's
    /// fastest), against the process ring of the default size read
    /// concurrently, the records decoded as the agent decodes them: every
    /// exec the kernel counted must arrive, or be counted as a drop. With
    /// `rate` 0 the workers spawn as fast as they can.
    func execLoss(rates: [Int], seconds: Int, workers: Int, loop: SpawnLoop) throws -> String {
        var lines = [
            "| execs of a static do-nothing program from the pod (posix_spawn + wait, \(workers) workers), \(seconds) s per rate | execs/s reached | exec events counted by the kernel | received | ring drops counted | received + drops == counted (all event types) | the reader's CPU µs per event |",
            "|---|---|---|---|---|---|---|"
        ]
        let monitor = try loadMonitor()
        for rate in rates {
            let ring = "\(ProcessMonitor.defaultEventBufferBytes >> 20) MiB ring read concurrently"
            let count = (rate == 0 ? 10_000 : rate) * seconds
            lines.append(
                try lossRow(
                    rate == 0 ? "as fast as it goes, \(ring)" : "\(rate)/s, \(ring)", of: "exec", monitor: monitor, concurrent: true,
                    counted: \.execs, received: \.execs
                ) { try loop.run(count: count, rate: rate, workers: workers, bench: self).execsPerSecond })
        }
        return lines.joined(separator: "\n")
    }

    /// One measured run against `monitor`'s ring: the events the kernel
    /// counted (`counted`), those received, and the check on every event
    /// type together (the drop counter covers them all: runc exec's own
    /// fork, exec and exit are lost with a small ring too). `run` returns
    /// the rate it reached.
    func lossRow(
        _ name: String, of what: String, monitor: ProcessMonitor, concurrent: Bool, counted: KeyPath<ProcessCounters, UInt64>,
        received: KeyPath<ReceivedEvents, UInt64>, run: () throws -> Double
    ) throws -> String {
        func attempted() -> UInt64 {
            monitor.counters.fileEvents + monitor.counters.execs + monitor.counters.forks + monitor.counters.exits
        }
        let drain = try EventDrain(monitor, concurrent: concurrent)
        let (countedBefore, attemptedBefore, dropsBefore) = (
            monitor.counters[keyPath: counted], attempted(), monitor.counters.ringBufferDrops
        )
        let rate = try run()
        let events = drain.finish()
        let countedNow = monitor.counters[keyPath: counted] - countedBefore
        let drops = monitor.counters.ringBufferDrops - dropsBefore
        let missing = Int64(attempted() - attemptedBefore) - Int64(events.total + drops)
        let check = missing == 0 ? "yes" : "NO, \(missing) uncounted"
        progress("\(what) loss, \(name): \(events[keyPath: received]) received + \(drops) dropped of \(countedNow)")
        let readerCPU = concurrent ? format(Double(events.readerNanoseconds) / 1000 / Double(max(1, events.total)), 2) : "-"
        return "| \(name) | \(Int(rate)) | \(countedNow) | \(events[keyPath: received]) | \(drops) | \(check) | \(readerCPU) |"
    }

    /// A ring of one page that nobody reads until the loop is over: most
    /// events are lost, and each must be counted. The drop counter covers
    /// every event type, so the check is on all of them together.
    func lossWithSmallRing(bytes: UInt32) throws -> String {
        let monitor = try loadMonitor(eventBufferBytes: bytes)
        let drain = try EventDrain(monitor, concurrent: false)
        let execsPerSecond = try run(.pod).execsPerSecond
        let received = drain.finish()
        let counters = monitor.counters
        let attempted = counters.execs + counters.forks + counters.exits
        let exact = received.total + counters.ringBufferDrops == attempted
        progress("small ring: \(received.total) received + \(counters.ringBufferDrops) dropped vs \(attempted) attempted")
        return """
            | one loop of \(loop.count) in the pod, \(bytes)-byte ring read only at the end | value |
            |---|---|
            | execs/s | \(Int(execsPerSecond)) |
            | events counted by the kernel (execs + forks + exits) | \(counters.execs) + \(counters.forks) + \(counters.exits) = \(attempted) |
            | events received (execs, forks, exits, other) | \(received.total) (\(received.execs), \(received.forks), \(received.exits), \(received.other)) |
            | ring drops counted | \(counters.ringBufferDrops) |
            | received + drops == counted | \(exact ? "yes" : "NO, \(Int64(attempted) - Int64(received.total + counters.ringBufferDrops)) uncounted") |
            """
    }
}
