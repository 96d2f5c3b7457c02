import Foundation
import PodwallBenchSupport
import PodwallKernel

extension ExecBench {
    /// Watched writes from the pod paced at each rate, against the process
    /// ring of the default size read concurrently (the records decoded as
    /// the agent decodes them): every event the kernel counted must arrive,
    /// or be counted as a drop. With `rate` 0 the loop runs as fast as it
    /// can. Then a ring of one page read only after the loop, where most
    /// events are lost and each must be counted.
    func fileLoss(rates: [Int], seconds: Int, loop: OpenLoop) throws -> String {
        try FileManager.default.createDirectory(atPath: container.sharedDirectory + "/watched", withIntermediateDirectories: true)
        var lines = [
            "| watched writes (open O_WRONLY\\|O_CREAT\\|O_TRUNC of \(Self.watchedWritePath) + close) from the pod, \(seconds) s per rate | opens/s reached | file events counted by the kernel | received | ring drops counted | received + drops == counted (all event types) | the reader's CPU µs per event |",
            "|---|---|---|---|---|---|---|"
        ]
        let monitor = try loadMonitor()
        let files = try attachFiles(.defaultRules, to: monitor, watched: true)
        for rate in rates {
            let ring = "\(ProcessMonitor.defaultEventBufferBytes >> 20) MiB ring read concurrently"
            let name = rate == 0 ? "as fast as it goes, \(ring)" : "\(rate)/s, \(ring)"
            lines.append(
                try fileLossRow(
                    name, monitor: monitor, concurrent: true, rate: rate, count: (rate == 0 ? 40_000 : rate) * seconds, loop: loop))
        }
        withExtendedLifetime(files) {}
        let small = try loadMonitor(eventBufferBytes: UInt32(getpagesize()))
        let smallFiles = try attachFiles(.defaultRules, to: small, watched: true)
        lines.append(
            try fileLossRow(
                "10000/s, \(getpagesize())-byte ring read only after the loop", monitor: small, concurrent: false, rate: 10_000,
                count: 10_000, loop: loop))
        withExtendedLifetime(smallFiles) {}
        return lines.joined(separator: "\n")
    }

    private func fileLossRow(_ name: String, monitor: ProcessMonitor, concurrent: Bool, rate: Int, count: Int, loop: OpenLoop) throws
        -> String
    {
        try lossRow(name, of: "file", monitor: monitor, concurrent: concurrent, counted: \.fileEvents, received: \.files) {
            try loop.run(.pod, .write, Self.watchedWritePath, count: count, rate: rate, bench: self).opensPerSecond
        }
    }
}
