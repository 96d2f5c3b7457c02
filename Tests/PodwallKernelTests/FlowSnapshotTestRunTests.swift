import Glibc
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Testing

/// What the idle sweeper relies on: a flow picked from an earlier snapshot
/// is removed only if, read again, it is still picked.
extension DatapathTestRunTests {
    @Test func aFlowPickedFromASnapshotIsRemovedOnlyIfItIsStillPickedWhenReadAgain() throws {
        let (active, idle, gone) = (
            Self.tcp(0x02), Self.udp(to: PacketBuilder.v4("198.18.0.21")), Self.udp(to: PacketBuilder.v4("198.18.0.22"))
        )
        for packet in [active, idle, gone] { try send(packet) }
        let snapshot = datapath.flows.snapshot()
        #expect(snapshot.records.count == 3)
        let cutoff = MonotonicClock.now()
        usleep(20_000)  // past the coarse clock's tick: the next packet stamps a later time
        try send(Self.tcp(0x10))
        let goneKey = try #require(zip(snapshot.keys, snapshot.records).first { $0.1.key.remote.description == "198.18.0.22" }?.0)
        #expect(try datapath.flowMap.delete(goneKey))

        let removed = datapath.flows.remove(picking: { $0.lastSeen < cutoff }, from: snapshot)
        #expect(removed.map(\.key.remote.description) == ["198.18.0.21"], "not the flow that had a packet since, nor the one already gone")
        #expect(flows.map(\.key.proto) == [.tcp])
    }
}
