/// How often time-driven detection runs: unanswered probes, open intervals
/// and dedup windows every `tickNs`; volume samples of open flows every
/// `sampleNs`, several per exfiltration interval so that sampling jitter does
/// not move whole samples between intervals.
public struct DetectionCadence: Sendable, Equatable {
    public var tickNs: UInt64 = 250_000_000
    public var sampleNs: UInt64

    /// Four samples per exfiltration interval, at least one every 2 s.
    public init(exfiltrationIntervalNs: UInt64) {
        sampleNs = max(min(2_000_000_000, exfiltrationIntervalNs / 4), tickNs)
    }
}

extension AggregatorConfig {
    public var cadence: DetectionCadence { DetectionCadence(exfiltrationIntervalNs: exfiltration.intervalNs) }
}

/// The detectors' clock, on the agent's monotonic clock or a capture's: which
/// ticks and volume samples are due when time reaches `now`. The agent and
/// `podwall replay` both run the detectors through it, at one cadence.
public struct DetectionClock: Sendable {
    public let cadence: DetectionCadence
    private var nextTick: UInt64?
    private var nextSample: UInt64 = 0

    public init(cadence: DetectionCadence) {
        self.cadence = cadence
    }

    public struct Due: Sendable, Equatable {
        /// The times of the ticks due, oldest first.
        public var ticks: [UInt64]
        /// A volume sample is due (at `now`).
        public var sample: Bool
    }

    /// What is due at `now`; the first call starts the clock.
    public mutating func advance(to now: UInt64) -> Due {
        guard var tick = nextTick else {
            nextTick = now &+ cadence.tickNs
            nextSample = now &+ cadence.sampleNs
            return Due(ticks: [], sample: false)
        }
        var ticks: [UInt64] = []
        while now >= tick {
            ticks.append(tick)
            tick &+= cadence.tickNs
        }
        nextTick = tick
        let sample = now >= nextSample
        if sample { nextSample = now &+ cadence.sampleNs }
        return Due(ticks: ticks, sample: sample)
    }
}
