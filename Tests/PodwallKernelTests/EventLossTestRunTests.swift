import PodwallABI
import PodwallCore
import PodwallKernel
import PodwallTestSupport
import Testing

/// A ring buffer too small for a burst: every event is either delivered or
/// counted as lost, and enforcement does not care.
@Suite(.enabled(if: Privileged.enabled, Privileged.reason))
struct EventLossTestRunTests {
    /// `count` new UDP flows from a pod, each with a payload: two events each.
    static func sendNewFlows(_ count: Int, through datapath: Datapath) throws {
        for port in 0..<count {
            let packet = PacketBuilder(
                network: .ipv4(source: DatapathTestRunTests.podV4, destination: PacketBuilder.v4("198.18.0.13")),
                transport: .udp(source: UInt16(2000 + port), destination: 53), payload: [1]
            ).build()
            _ = try ProgramTestRun.run(datapath.fromPod, packet: packet)
        }
    }

    @Test func aFullEventRingCountsEveryLostEvent() throws {
        LibbpfLog.capture(echo: false)
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096, eventBufferBytes: 4096))
        let flowsSent = 500
        try Self.sendNewFlows(flowsSent, through: datapath)
        let delivered = try RingBufferReader.drain(mapFD: datapath.eventsFD) { KernelEvent(record: $0) }.count
        let lost = datapath.counters.value(PW_CNT_RINGBUF_DROPS)
        #expect(lost > 0, "4 KiB cannot hold \(flowsSent) flow events")
        // Each flow sends a new-flow and a first-payload event.
        #expect(UInt64(delivered) + lost == UInt64(2 * flowsSent), "delivered \(delivered), lost \(lost)")
    }

    @Test func aFullQueueToTheDetectorsCountsEveryRecordItRefuses() async throws {
        LibbpfLog.capture(echo: false)
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096, eventBufferBytes: 256 * 1024))
        let flowsSent = 200
        try Self.sendNewFlows(flowsSent, through: datapath)
        #expect(datapath.counters.value(PW_CNT_RINGBUF_DROPS) == 0, "256 KiB holds them all")
        // Nothing takes from the queue until the reader has read the ring.
        let reader = RingBufferReader(mapFD: datapath.eventsFD) { KernelEvent(record: $0) }
        let batches = try reader.records(queueCapacity: 100, batchLimit: 64)
        let deadline = MonotonicClock.now() + 10_000_000_000
        while reader.deliveredCount + reader.queueDrops < UInt64(2 * flowsSent), MonotonicClock.now() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        reader.stop()
        var received = 0
        for await batch in batches { received += batch.count }
        #expect(reader.deliveredCount == 100)
        #expect(received == 100)
        #expect(reader.queueDrops == UInt64(2 * flowsSent - 100))
    }
}
