import PodwallBenchSupport
import PodwallKernel

extension ExecBench {
    /// Several loops side by side in the pod, as fast as the machine goes,
    /// with the ring read concurrently: every exec the kernel counted must
    /// have arrived.
    func lossAtFullRate(parallel: Int) throws -> String {
        let monitor = try loadMonitor()
        let drain = try EventDrain(monitor)
        let fast = ExecLoop(count: loop.count, parallel: parallel)
        let execsPerSecond = try run(.pod, fast).execsPerSecond
        let received = drain.finish()
        let counters = monitor.counters
        progress("full rate: \(Int(execsPerSecond)) execs/s, \(received.execs) of \(counters.execs) exec events")
        return """
            | \(parallel) loops of \(loop.count) /bin/true side by side in the pod, ring read concurrently | value |
            |---|---|
            | execs/s reached | \(Int(execsPerSecond)) |
            | exec events received / execs counted by the kernel | \(received.execs) / \(counters.execs) |
            | fork, exit events received / counted | \(received.forks) / \(counters.forks), \(received.exits) / \(counters.exits) |
            | ring drops counted | \(counters.ringBufferDrops) |
            | execs lost | \(Int64(counters.execs) - Int64(received.execs)) |
            """
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
