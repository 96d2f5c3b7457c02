import PodwallABI
import PodwallCore
import PodwallKernel
import PodwallTestSupport
import Testing

/// In-kernel capture on crafted packets: filter, snaplen, budget, expiry and
/// loss accounting, with every record checked against the packet sent.
extension Trait where Self == ConditionTrait {
    /// The compat data path (Linux < 5.12) has no in-kernel capture.
    static var kernelCapture: Self {
        .enabled(if: KernelFeatures.probe().capture, "in-kernel capture needs Linux >= 5.12; this kernel loads the compat data path")
    }
}

extension DatapathTestRunTests {
    static let flowFilter = CaptureFilter(
        pod: IPPrefix("198.18.0.11/32"), remote: IPPrefix("198.18.0.12/32"), podPort: 40000, remotePort: 80, proto: .tcp)

    func capture(
        _ filter: CaptureFilter = flowFilter, snaplen: UInt32 = 64, budget: UInt64? = nil,
        duration: Double? = nil, startedAt: UInt64 = MonotonicClock.now()
    ) throws -> KernelCapture {
        try datapath.captures.start(
            CaptureRequest(id: "test", filter: filter, snaplen: snaplen, maxPackets: budget, durationSeconds: duration),
            monotonicNow: startedAt)
    }

    func packets(_ capture: KernelCapture) throws -> [CapturedPacket] {
        try RingBufferReader.drain(mapFD: capture.ringFD) { CapturedPacket(record: $0) }
    }

    @Test(.kernelCapture) func matchingPacketsOfBothDirectionsAreCapturedUpToSnaplen() throws {
        let running = try capture()
        let syn = Self.tcp(0x02, payload: Array(repeating: 0xab, count: 100))
        let synAck = Self.tcp(0x12, from: false)
        try send(syn)
        try send(synAck, .toPod)
        try send(Self.udp(to: Self.remoteV4))  // another flow: not captured
        let records = try packets(running)
        #expect(records.map(\.data) == [Array(syn.prefix(64)), Array(synAck.prefix(64))])
        #expect(records.map(\.originalLength) == [UInt32(syn.count), UInt32(synAck.count)])
        #expect(records.map(\.direction) == [.fromPod, .toPod])
        #expect(records.allSatisfy { $0.captureID == running.id })
        #expect(records[0].monotonicNanoseconds <= records[1].monotonicNanoseconds)
        #expect(
            running.counters.matched == 2 && running.counters.captured == 2
                && running.counters.capturedBytes == UInt64(records.map(\.data.count).reduce(0, +)))
    }

    @Test(.kernelCapture) func theBudgetIsExactAndPacketsPastItAreCounted() throws {
        let running = try capture(budget: 3)
        for _ in 0..<5 { try send(Self.tcp(0x10)) }
        #expect(try packets(running).count == 3)
        let counters = running.counters
        #expect(counters.matched == 5 && counters.captured == 3 && counters.skipped == 2 && counters.lost == 0)
    }

    @Test(.kernelCapture) func anExpiredCaptureDeliversNothingAndCountsWhatItSkipped() throws {
        let running = try capture(duration: 1, startedAt: MonotonicClock.now() - 10_000_000_000)
        try send(Self.tcp(0x02))
        #expect(try packets(running).isEmpty)
        #expect(running.counters.skipped == 1)
    }

    @Test(.kernelCapture) func aStoppedCaptureFreesItsSlotAndCostsNothing() throws {
        let running = try capture()
        let final = try running.stop()
        try send(Self.tcp(0x02))
        #expect(final.matched == 0 && running.counters.matched == 0)
        #expect(try datapath.captures.running().isEmpty)
    }

    @Test(.kernelCapture) func prefixAndProtocolFiltersSelect() throws {
        let any = try capture(CaptureFilter(remote: IPPrefix("198.18.0.0/24")), snaplen: 1500)
        let udpOnly = try capture(CaptureFilter(proto: .udp))
        let v6 = try capture(CaptureFilter(remote: IPPrefix("fd00:198:18::/48")))
        let big = Self.udp(to: Self.remoteV4, payload: Array(repeating: 7, count: 1200))
        try send(big)
        try send(Self.tcp(0x02))
        try send(Self.udp(to: PacketBuilder.v4("198.19.0.2")))
        #expect(try packets(any).map(\.data) == [big, Self.tcp(0x02)], "a full frame fits in a 1500-byte snaplen")
        #expect(try packets(udpOnly).count == 2)
        #expect(try packets(v6).isEmpty)
    }

    @Test(.kernelCapture) func droppedPacketsAreCapturedToo() throws {
        try block("198.18.0.12")
        let running = try capture()
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        #expect(try packets(running).count == 1)
    }

    @Test(.kernelCapture) func aFullRingIsCountedAsLostNeverSilent() throws {
        let running = try capture(snaplen: 256)
        let packet = Self.tcp(0x10, payload: Array(repeating: 1, count: 400))
        _ = try ProgramTestRun.run(datapath.fromPod, packet: packet, repeat: 20_000)
        let counters = running.counters
        #expect(counters.matched == 20_000)
        #expect(counters.lost > 0, "a 4 MiB ring cannot hold 20,000 records of 296 bytes")
        #expect(counters.captured + counters.lost == 20_000)
        #expect(try packets(running).count == Int(counters.captured))
    }

    @Test(.kernelCapture) func snaplenOutsideTheKernelLimitIsRefused() throws {
        #expect(throws: KernelError.self) { try capture(snaplen: 0) }
        #expect(throws: KernelError.self) { try capture(snaplen: UInt32(PW_CAPTURE_MAX_SNAPLEN) + 1) }
    }
}
