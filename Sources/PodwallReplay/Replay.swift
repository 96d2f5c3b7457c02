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

    static let tickNs: UInt64 = 250_000_000
    static let sampleNs: UInt64 = 2_000_000_000
    /// After the last packet, time is run on this far so that probes that
    /// never got an answer, and open intervals, are decided.
    static let drainNs: UInt64 = 15_000_000_000

    public static func run(path: String, config: AggregatorConfig) throws -> Result {
        var result = Result()
        var tracker = OfflineFlowTracker()
        var aggregator = Aggregator(config: config)
        var nextTick: UInt64 = 0, nextSample: UInt64 = 0, last: UInt64 = 0
        result.packets = try PcapPackets.forEach(path) { packet, linkType in
            let now = UInt64(max(0, packet.timestampNs))
            last = now
            if nextTick == 0 { (nextTick, nextSample) = (now + tickNs, now + sampleNs) }
            while now >= nextTick {
                result.alerts += aggregator.tick(now: nextTick)
                nextTick += tickNs
            }
            if now >= nextSample {
                result.alerts += aggregator.sample(tracker.records, at: now, now: now)
                nextSample = now + sampleNs
            }
            guard let decoded = PacketDecoder.decode(packet.bytes, linkType: linkType, wireLength: packet.wireLength) else { return }
            result.decoded += 1
            for event in tracker.observe(decoded, timestamp: now) {
                result.alerts += aggregator.observe(event, now: now, observedSince: 0)
            }
        }
        var time = nextTick
        while time <= last + drainNs {
            result.alerts += aggregator.tick(now: time)
            time += tickNs
        }
        result.flows = tracker.records.count
        return result
    }
}
