import Foundation
import PodwallBenchSupport

/// The 64-byte UDP rate in short windows of one long flood, the attachment
/// switched between windows. The shared VM drifts by ±15 % between runs and
/// ±6 % between seconds, but two neighbouring windows drift alike: a
/// window's rate against the baseline windows on either side of it is a
/// much steadier ratio than one run against another.
struct AlternatingFlood<Mode: Hashable> {
    let iperf: Iperf
    /// Seconds measured per window, after `settle` seconds for the switch.
    let window: Double
    let settle: Double

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Each mode's ratios to the baseline, interpolated between the nearest
    /// `baseline` windows before and after it (weighted by distance, so a
    /// steady drift favours no position in the cycle), over `cycles` passes
    /// through `modes` (which starts with the baseline).
    func ratios(modes: [Mode], cycles: Int, apply: (Mode) throws -> Void) throws -> [Mode: [Double]] {
        guard cycles >= 1, modes.count >= 2 else { throw Failure(description: "alternating windows need a cycle and two modes") }
        let baseline = modes[0]
        let rates = try windowRates(modes: modes, cycles: cycles, apply: apply)
        var ratios: [Mode: [Double]] = [:]
        for (index, (mode, rate)) in rates.enumerated() where mode != baseline {
            let before = rates[..<index].lastIndex { $0.mode == baseline }
            let after = rates[(index + 1)...].firstIndex { $0.mode == baseline }
            guard let before, let after else { continue }
            let towardsAfter = Double(index - before) / Double(after - before)
            let expected = rates[before].rate * (1 - towardsAfter) + rates[after].rate * towardsAfter
            ratios[mode, default: []].append(rate / expected)
        }
        return ratios
    }

    /// Datagrams the server's stack took in per second (`Udp: InDatagrams`),
    /// window by window, ending with a baseline window.
    private func windowRates(modes: [Mode], cycles: Int, apply: (Mode) throws -> Void) throws -> [(mode: Mode, rate: Double)] {
        let sequence = Array((0..<cycles).map { _ in modes }.joined()) + [modes[0]]
        // Longer than the windows need: switching takes time too. Stopped at the end.
        let seconds = Int((Double(sequence.count) * (window + settle) * 1.5).rounded(.up)) + 5
        let flood = try iperf.startUDPFlood(seconds: seconds)
        defer {
            // The server takes the next test only once this one is over.
            flood.terminate()
            while flood.isRunning { usleep(50_000) }
            usleep(500_000)
        }
        usleep(1_000_000)  // iperf3's start-up and first burst are not measured
        var rates: [(mode: Mode, rate: Double)] = []
        for mode in sequence {
            try apply(mode)
            usleep(useconds_t(settle * 1e6))
            let start = (count: try received(), time: Date())
            usleep(useconds_t(window * 1e6))
            let end = (count: try received(), time: Date())
            guard flood.isRunning else { throw Failure(description: "iperf3's flood ended before the windows did") }
            rates.append((mode, Double(end.count - start.count) / end.time.timeIntervalSince(start.time)))
            FileHandle.standardError.write(Data("window \(rates.count) \(mode): \(Int(rates.last!.rate)) datagrams/s\n".utf8))
        }
        return rates
    }

    private func received() throws -> Int {
        try iperf.lab.snmpCounter(iperf.server.namespace, group: "Udp", field: "InDatagrams")
    }
}
