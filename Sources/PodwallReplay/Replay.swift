import CPcapShim
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

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static let tickNs: UInt64 = 250_000_000
    static let sampleNs: UInt64 = 2_000_000_000
    /// After the last packet, time is run on this far so that probes that
    /// never got an answer, and open intervals, are decided.
    static let drainNs: UInt64 = 15_000_000_000

    public static func run(path: String, config: AggregatorConfig) throws -> Result {
        var message = [CChar](repeating: 0, count: 512)
        guard let reader = pw_pcap_open(path, &message, Int32(message.count)) else {
            throw Failure(description: "cannot read \(path): \(String(nulTerminated: message))")
        }
        defer { pw_pcap_close(reader) }
        let datalink = pw_pcap_datalink(reader)
        guard let linkType = LinkType(rawValue: datalink == 12 || datalink == 14 ? LinkType.raw.rawValue : datalink) else {
            throw Failure(description: "\(path): link type \(datalink) is not supported (Ethernet, Linux cooked or raw IP)")
        }
        var result = Result()
        var tracker = OfflineFlowTracker()
        var aggregator = Aggregator(config: config)
        var nextTick: UInt64 = 0, nextSample: UInt64 = 0, last: UInt64 = 0
        var data: UnsafePointer<UInt8>?
        var captured: UInt32 = 0, length: UInt32 = 0
        var timestamp: Int64 = 0
        while true {
            let status = pw_pcap_next(reader, &data, &captured, &length, &timestamp)
            if status == 0 { break }
            guard status == 1, let data else { throw Failure(description: "\(path): read error after \(result.packets) packets") }
            result.packets += 1
            let now = UInt64(max(0, timestamp))
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
            guard let packet = PacketDecoder.decode(UnsafeRawBufferPointer(start: data, count: Int(captured)),
                                                    linkType: linkType, wireLength: Int(length)) else { continue }
            result.decoded += 1
            for event in tracker.observe(packet, timestamp: now) {
                result.alerts += aggregator.observe(event, wall: { $0 }, now: now)
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
