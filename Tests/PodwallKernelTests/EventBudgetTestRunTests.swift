import Foundation
import PodwallABI
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Testing

/// Each pod's budget of new-flow events: past it the pod's new flows are
/// counted in its link entry's summary, sent once per interval, and the
/// budget refills with time.
extension DatapathTestRunTests {
    static func syn(fromPort port: UInt16) -> [UInt8] {
        PacketBuilder(
            network: .ipv4(source: podV4, destination: remoteV4), transport: .tcp(source: port, destination: 80, flags: 0x02, sequence: 1)
        ).build()
    }

    func drainKernelEvents() throws -> [KernelEvent] {
        try RingBufferReader.drain(mapFD: datapath.eventsFD) { KernelEvent(record: $0) }
    }

    @Test(.enabled(if: KernelFeatures.probe().linkCounts, "the compat build (Linux < 5.12) has no event budget"))
    func aPodPastItsBudgetIsSummarizedAndItsBudgetRefills() throws {
        try send(Self.syn(fromPort: 1000))  // no link entry yet: no budget, reported
        let ifindex = try #require(flows.first?.key.ifindex)
        try datapath.linkMap.update(ifindex, pw_link())
        // 2 a second, a burst of 1: two events at once, then one each 500 ms.
        try datapath.policy.setPodEventBudget(perSecond: 2, burst: 1)
        _ = try drainKernelEvents()

        for port in UInt16(2000)..<2020 { try send(Self.syn(fromPort: port)) }
        let first = try drainKernelEvents()
        #expect(first.filter { if case .flow(let event) = $0 { event.kind == .new } else { false } }.count == 2)
        #expect(counter(PW_CNT_FLOWS_SUMMARIZED) == 18)
        #expect(flows.count == 21, "summarized flows are still tracked")
        #expect(!first.contains { if case .summary = $0 { true } else { false } }, "the interval has not ended")

        // Past the summary's interval, the next summarized flow sends it.
        Thread.sleep(forTimeInterval: 0.3)
        try send(Self.syn(fromPort: 3000))
        let summaries = try drainKernelEvents().compactMap { if case .summary(let summary) = $0 { summary } else { nil } }
        let summary = try #require(summaries.first)
        #expect(summaries.count == 1)
        #expect(summary.ifindex == ifindex && summary.newFlows == 19 && summary.podInitiated == 19 && summary.tcpSyns == 19)
        #expect(summary.distinctRemotePorts == 1 && summary.distinctRemoteHosts == 1)
        #expect(summary.replies == 0 && summary.unansweredShare == 1)
        #expect(summary.seconds >= 0.25)

        // A summarized flow's answer is counted, not reported.
        try send(
            PacketBuilder(
                network: .ipv4(source: Self.remoteV4, destination: Self.podV4),
                transport: .tcp(source: 80, destination: 3000, flags: 0x12, sequence: 1)
            ).build(), .toPod)
        #expect(try drainKernelEvents().isEmpty)
        #expect(try datapath.linkMap.lookup(ifindex)?.summary.replies == 1)

        // The budget refills: a new flow a second later is reported again.
        Thread.sleep(forTimeInterval: 1.1)
        try send(Self.syn(fromPort: 4000))
        let later = try drainKernelEvents()
        #expect(later.contains { if case .flow(let event) = $0 { event.kind == .new && event.flow.key.podPort == 4000 } else { false } })
    }
}
