import PodwallABI
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Testing

/// Blocklist, allowlist and quarantine in the TC programs, on crafted packets.
extension DatapathTestRunTests {
    func block(_ text: String, feed: String = "test") throws {
        var prefixes = datapath.blocklist.entries().keys.filter {
            datapath.blocklist.feedNames(datapath.blocklist.entries()[$0]!.feeds).contains(feed)
        }
        prefixes.append(IPPrefix(text)!)
        try datapath.blocklist.replaceFeed(feed, with: Set(prefixes))
    }

    func allow(_ text: String) throws {
        try datapath.allowMap.update(pw_lpm_key(IPPrefix(text)!), 0)
        try datapath.policy.bump()
    }

    static func udp(to destination: [UInt8], from source: [UInt8] = podV4, payload: [UInt8] = [1, 2, 3]) -> [UInt8] {
        let v6 = destination.count == 16
        return PacketBuilder(
            network: v6
                ? .ipv6(source: source.count == 16 ? source : podV6, destination: destination)
                : .ipv4(source: source, destination: destination),
            transport: .udp(source: 1111, destination: 53), payload: payload
        ).build()
    }

    /// A batch that failed half-way would leave entries the store does not
    /// know of: a feed larger than the address map is refused before any write.
    @Test func aFeedLargerThanTheMapIsRefusedWhole() throws {
        let capacity = Int(PW_BLOCK_HOSTS_DEFAULT_ENTRIES)
        let feed = SortedPrefixes((0...capacity).map { IPPrefix(host: IPAddress(ipv4: 0x0B00_0000 + UInt32($0))) })
        #expect(throws: KernelError.self) { try datapath.blocklist.replaceFeed("huge", with: feed) }
        #expect(datapath.blocklist.entries().isEmpty)
        #expect(datapath.blocklist.feeds().isEmpty)
    }

    /// Each feed fits alone, not both together: the second is refused
    /// before any write, and the first stays whole.
    @Test func aFeedThatNoLongerFitsBesideTheOthersIsRefusedWhole() throws {
        let half = Int(PW_BLOCK_HOSTS_DEFAULT_ENTRIES) / 2 + 1
        func feed(from first: UInt32) -> SortedPrefixes {
            SortedPrefixes((0..<UInt32(half)).map { IPPrefix(host: IPAddress(ipv4: first + $0)) })
        }
        try datapath.blocklist.replaceFeed("first", with: feed(from: 0x0B00_0000))
        #expect(throws: KernelError.self) { try datapath.blocklist.replaceFeed("second", with: feed(from: 0x1600_0000)) }
        #expect(datapath.blocklist.entries().count == half)
        #expect(datapath.blocklist.feeds().map(\.name) == ["first"])
        // Room made by removing the first is counted: now the second fits.
        try datapath.blocklist.removeFeed("first")
        try datapath.blocklist.replaceFeed("second", with: feed(from: 0x1600_0000))
        #expect(datapath.blocklist.entries().count == half)
    }

    @Test func egressToAListedAddressAndIngressFromItAreDropped() throws {
        try block("198.18.0.12")
        try send(Self.tcp(0x02), expect: Self.tcActShot)  // pod -> listed remote
        try send(Self.tcp(0x12, from: false), .toPod, expect: Self.tcActShot)  // listed remote -> pod
        try send(Self.udp(to: PacketBuilder.v4("198.18.0.13")))  // anyone else passes
        #expect(counter(PW_CNT_DROPS_BLOCKLIST) == 2)
        #expect(try datapath.blocklist.match(IPAddress("198.18.0.12")!)?.entry.hits == 2)
        let flow = try #require(flows.first { $0.key.remotePort == 80 })
        #expect(flow.fromPod.packets == 0, "dropped packets are not counted as delivered")
    }

    @Test func prefixesMatchAndTheDropEventNamesTheMatchedPrefix() throws {
        try block("198.18.0.0/24")
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        let drops = try RingBufferReader.drain(mapFD: datapath.eventsFD) { DropRecord(record: $0) }
        #expect(drops.count == 1, "one drop event per flow per second")
        #expect(drops.first?.matched?.description == "198.18.0.0/24")
        #expect(drops.first?.reason == .blocklist)
        #expect(drops.first?.process == nil, "TC drops carry no process")
    }

    @Test func anIPv4EntryAlsoBlocksIPv4MappedIPv6() throws {
        try block("198.18.0.12")
        let mapped = PacketBuilder.v6("::ffff:c612:c")  // ::ffff:198.18.0.12
        try send(Self.udp(to: mapped, from: Self.podV6), expect: Self.tcActShot)
    }

    @Test func ipv6EntriesBlock() throws {
        try block("fd00:198:18::/48")
        try send(Self.udp(to: Self.remoteV6), expect: Self.tcActShot)
        try send(Self.udp(to: PacketBuilder.v6("fd00:198:19::1")))
    }

    @Test func fragmentsAndBrokenTransportHeadersOfABlockedFlowAreDropped() throws {
        try block("198.18.0.12")
        let later = PacketBuilder(
            network: .ipv4(source: Self.podV4, destination: Self.remoteV4, fragmentOffset: 1480, identification: 3),
            transport: .raw(proto: 6), payload: [0, 80, 0, 22, 0, 0, 0, 0]
        ).build()
        try send(later, expect: Self.tcActShot)
        let badOffset = PacketBuilder(
            network: .ipv4(source: Self.podV4, destination: Self.remoteV4),
            transport: .tcp(source: 1, destination: 2, flags: 2, dataOffsetWords: 2)
        ).build()
        try send(badOffset, expect: Self.tcActShot)
        var options = Self.tcp(0x02, options: [UInt8](repeating: 1, count: 40))
        options.removeLast(30)  // truncated inside the TCP header
        try send(options, expect: Self.tcActShot)
        let extensions = PacketBuilder(
            network: .ipv6(
                source: Self.podV6, destination: Self.remoteV6,
                extensionHeaders: [PacketBuilder.IPv6Extension](repeating: .destination(length: 8), count: 12)),
            transport: .tcp(source: 1, destination: 2, flags: 2)
        ).build()
        try block("fd00:198:18::12")
        try send(extensions, expect: Self.tcActShot)
    }

    @Test func anEstablishedFlowIsDroppedOnceItsRemoteIsListed() throws {
        try send(Self.tcp(0x02))
        try send(Self.tcp(0x10))  // checked once, then skips the lookups
        #expect(flows.first?.fromPod.packets == 2)
        try block("198.18.0.12")  // bumps the policy generation
        try send(Self.tcp(0x10), expect: Self.tcActShot)
        try send(Self.tcp(0x12, from: false), .toPod, expect: Self.tcActShot)
    }

    @Test func theAllowlistWinsOverTheBlocklist() throws {
        try block("198.18.0.0/16")
        try allow("198.18.0.12/32")
        try send(Self.tcp(0x02))
        try send(Self.udp(to: PacketBuilder.v4("198.18.0.99")), expect: Self.tcActShot)
        #expect(counter(PW_CNT_ALLOWLIST_OVERRIDES) == 1)
    }

    @Test func dynamicEntriesExpireInTheKernelEvenWithoutTheAgent() throws {
        let prefix = IPPrefix("198.18.0.12")!
        try datapath.blocklist.addDynamic(prefix, expiresNs: MonotonicClock.now() + 60_000_000_000)
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        // The data path reads the coarse clock, cached per CPU (two ticks behind at most).
        try datapath.blocklist.addDynamic(prefix, expiresNs: MonotonicClock.now() - 50_000_000)
        try send(Self.tcp(0x02))
        #expect(try datapath.blocklist.expire(nowNs: MonotonicClock.now()) == [prefix])
    }

    @Test func quarantineDropsNewFlowsButNotEstablishedOnesNorAllowlisted() throws {
        try send(Self.tcp(0x02))  // established before the quarantine (ifindex 1 in test runs)
        try datapath.quarantine.quarantine(1, since: MonotonicClock.now(), for: nil)
        try send(Self.tcp(0x10))
        try send(Self.udp(to: PacketBuilder.v4("198.18.0.50")), expect: Self.tcActShot)
        try send(Self.udp(to: PacketBuilder.v4("198.18.0.50")), expect: Self.tcActShot)
        try allow("198.18.0.53/32")
        try send(Self.udp(to: PacketBuilder.v4("198.18.0.53")))
        #expect(try datapath.quarantine.entry(1)?.drops == 2)
        try datapath.quarantine.release(1)
        try send(Self.udp(to: PacketBuilder.v4("198.18.0.50")))  // released: the flow passes
    }

    /// A flow first seen as a blocklist drop is still a new flow of the
    /// quarantined pod: removing the entry must not let it through.
    @Test func aFlowOpenedByABlocklistDropOfAQuarantinedPodStaysQuarantined() throws {
        try datapath.quarantine.quarantine(1, since: MonotonicClock.now(), for: nil)
        try block("198.18.0.12")
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        #expect(counter(PW_CNT_DROPS_BLOCKLIST) == 1)
        try datapath.blocklist.removeFeed("test")  // bumps the policy generation
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        #expect(counter(PW_CNT_DROPS_QUARANTINE) == 1)
        #expect(try datapath.quarantine.entry(1)?.drops == 1)
    }

    @Test func aFeedReloadKeepsSharedEntriesAndRemovesOnlyItsOwn() throws {
        let blocklist = datapath.blocklist
        try blocklist.replaceFeed("a", with: [IPPrefix("198.18.0.12")!, IPPrefix("198.18.1.0/24")!])
        try blocklist.replaceFeed("b", with: [IPPrefix("198.18.0.12")!])
        try blocklist.removeFeed("a")
        #expect(try blocklist.match(IPAddress("198.18.0.12")!) != nil, "still listed by b")
        #expect(try blocklist.match(IPAddress("198.18.1.7")!) == nil)
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        let change = try blocklist.replaceFeed("b", with: [IPPrefix("198.18.0.12")!, IPPrefix("fd00::/64")!])
        #expect(change.added == 1 && change.removed == 0)
    }
}
