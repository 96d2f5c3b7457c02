import PodwallCapture
import PodwallCore
import PodwallDetection

/// `podwall replay`: a capture file through the same flow model and the
/// same detectors as the live agent, without root and without a kernel.
/// Capture time drives the detectors' clock, so a replay is deterministic.
public enum Replay {
    public struct Result: Sendable {
        public var alerts: [Alert] = []
        public var packets = 0
        public var decoded = 0
        public var flows = 0
    }

    /// After the last packet, time is run on this far so that probes that
    /// never got an answer, and open intervals, are decided.
    static let drainNs: UInt64 = 15_000_000_000

    public static func run(path: String, config: AggregatorConfig) throws -> Result {
        var result = Result()
        var tracker = OfflineFlowTracker()
        var aggregator = Aggregator(config: config)
        var clock = DetectionClock(cadence: config.cadence)
        var last: UInt64 = 0
        result.packets = try PcapPackets.forEach(path) { packet, linkType in
            let now = UInt64(max(0, packet.timestampNs))
            last = now
            let due = clock.advance(to: now)
            for tick in due.ticks { result.alerts += aggregator.tick(now: tick) }
            if due.sample { result.alerts += aggregator.sample(tracker.records, at: now, now: now) }
            guard let decoded = PacketDecoder.decode(packet.bytes, linkType: linkType, wireLength: packet.wireLength) else { return }
            result.decoded += 1
            for event in tracker.observe(decoded, timestamp: now) {
                result.alerts += aggregator.observe(event, now: now, observedSince: 0)
            }
        }
        for tick in clock.advance(to: last + drainNs).ticks { result.alerts += aggregator.tick(now: tick) }
        result.flows = tracker.records.count
        return result
    }
}
