import PodwallABI
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Testing

/// Per-interface traffic counted by the programs in the interface's link entry.
extension DatapathTestRunTests {
    @Test(.enabled(if: KernelFeatures.probe().linkCounts, "the compat build (Linux < 5.12) counts no per-interface traffic"))
    func everyPacketOfARecordedInterfaceIsCountedInItsLinkEntry() throws {
        // Until the agent records an interface, the programs count nothing for it.
        try send(Self.tcp(0x02))
        let ifindex = try #require(flows.first?.key.ifindex)
        #expect(try datapath.links.entry(ifindex) == nil)
        try datapath.linkMap.update(ifindex, pw_link())

        try block("198.18.0.99")
        var arp = [UInt8](repeating: 0, count: 42)
        arp[12] = 0x08
        arp[13] = 0x06
        // A flow's packets, a non-IP frame and a dropped packet: every one counts.
        let fromPod = [
            Self.tcp(0x10, payload: Array(repeating: 7, count: 100)), Self.tcp(0x10), arp, Self.udp(to: PacketBuilder.v4("198.18.0.99"))
        ]
        let toPod = [Self.tcp(0x12, from: false), Self.tcp(0x10, from: false, payload: Array(repeating: 1, count: 500))]
        for packet in fromPod.dropLast() { try send(packet) }
        try send(fromPod[3], expect: Self.tcActShot)
        for packet in toPod { try send(packet, .toPod) }

        let entry = try #require(try datapath.links.entry(ifindex))
        #expect(entry.fromPod == .init(packets: UInt64(fromPod.count), bytes: UInt64(fromPod.map(\.count).reduce(0, +))))
        #expect(entry.toPod == .init(packets: UInt64(toPod.count), bytes: UInt64(toPod.map(\.count).reduce(0, +))))
    }
}
