import Foundation
import PodwallCore
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// The link entry's counts on a real veth: the programs attached to a lab
/// pod's host-side veth count exactly the datagrams the pods send each way.
@Suite(
    .serialized, .enabled(if: Privileged.enabled, Privileged.reason),
    .enabled(if: KernelFeatures.probe().linkCounts, "the compat build (Linux < 5.12) counts no per-interface traffic"))
struct LinkCountersLabTests {
    /// No traffic but the test's: no IPv6 (router solicitations, MLD
    /// reports), static neighbours (no ARP).
    static func quiet(_ lab: Lab) throws {
        let (client, server) = (lab.pods[0], lab.pods[1])
        try lab.inNode(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        for pod in [client, server] {
            try lab.inPod(pod, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        }
        for (pod, peer) in [(client, server), (server, client)] {
            let link = try lab.inPod(peer, ["cat", "/sys/class/net/eth0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            try lab.inPod(pod, ["ip", "neigh", "replace", peer.ipv4, "lladdr", link, "dev", "eth0", "nud", "permanent"])
        }
        usleep(300_000)  // what the changes sent (MLD done reports) has gone by
    }

    @Test(arguments: [TCAttachMode.clsact, .auto])
    func theLinkEntryCountsEveryDatagramEachWayAndAReattachKeepsThem(mode: TCAttachMode) throws {
        LibbpfLog.capture(echo: false)
        let lab = try Lab(pods: 2)
        defer { lab.teardown() }
        try Self.quiet(lab)
        let (client, server) = (lab.pods[0], lab.pods[1])
        let datapath = try Datapath(options: .init(pinRoot: lab.pinRoot, flowEntries: 4096, attachMode: mode))
        let veth = try NetworkNamespace.run(lab.nodeNamespace) {
            try LinkWatcher.currentLinks().first { $0.name == client.hostInterface }
        }
        let link = try #require(veth)
        try NetworkNamespace.run(lab.nodeNamespace) { try datapath.attach(link, monotonicNow: MonotonicClock.now()) }
        let before = try #require(try datapath.links.entry(link.index))

        let (out, back, size) = (40, 25, 100)
        let headers = 14 + 20 + 8
        let atServer = try NetworkNamespace.run(server.namespace) { try LabSocket.udpReceiver(address: server.ipv4, port: 9100) }
        defer { close(atServer) }
        let atClient = try NetworkNamespace.run(client.namespace) { try LabSocket.udpReceiver(address: client.ipv4, port: 9102) }
        defer { close(atClient) }
        try NetworkNamespace.run(client.namespace) {
            try LabSocket.sendUDP(to: server.ipv4, port: 9100, sourcePort: 9101, count: out, size: size)
        }
        try NetworkNamespace.run(server.namespace) {
            try LabSocket.sendUDP(to: client.ipv4, port: 9102, sourcePort: 9103, count: back, size: size * 2)
        }
        #expect(LabSocket.drain(atServer) == out && LabSocket.drain(atClient) == back)

        let after = try #require(try datapath.links.entry(link.index))
        // The flow table saw the same datagrams, in two flows. A packet the
        // lab's own kernel sent meanwhile (once a 54-byte one toward the
        // client, an IGMP report's size) is a flow of its own, counted by the
        // link entry too: it is added, never allowed for blindly.
        let flows = datapath.flows.records().filter { $0.key.ifindex == link.index }
        let test = flows.filter { [9100, 9102].contains($0.key.remotePort) || [9100, 9102].contains($0.key.podPort) }
        let stray = flows.filter { flow in !test.contains { $0.key == flow.key } }
        #expect(test.count == 2)
        #expect(test.map(\.fromPod.packets).reduce(0, +) == UInt64(out) && test.map(\.toPod.packets).reduce(0, +) == UInt64(back))
        func strayCount(_ count: (FlowRecord) -> UInt64) -> UInt64 { stray.map(count).reduce(0, +) }
        #expect(after.fromPod.packets - before.fromPod.packets == UInt64(out) + strayCount(\.fromPod.packets))
        #expect(after.fromPod.bytes - before.fromPod.bytes == UInt64(out * (size + headers)) + strayCount(\.fromPod.bytes))
        #expect(after.toPod.packets - before.toPod.packets == UInt64(back) + strayCount(\.toPod.packets))
        #expect(after.toPod.bytes - before.toPod.bytes == UInt64(back * (size * 2 + headers)) + strayCount(\.toPod.bytes))
        #expect(stray.count <= 1, "at most one stray packet's flow: \(stray.map(\.key))")

        // An agent restart attaches again: what was counted stays.
        try NetworkNamespace.run(lab.nodeNamespace) { try datapath.attach(link, monotonicNow: MonotonicClock.now()) }
        #expect(try datapath.links.entry(link.index) == after)
    }
}
