import PodwallABI
import PodwallCore
import PodwallKernel
import PodwallTestSupport
import Testing

/// Crafted and mutated packets against enforcement: whatever follows the IP
/// header, a packet to or from a blocked address is dropped, and tricks
/// that hide ports (fragments, options, extension chains) hide neither the
/// block nor a scan.
extension DatapathTestRunTests {
    /// Frames to the blocked remote: v4 with and without options, v6 with
    /// extension headers, VLAN and QinQ, TCP, UDP, ICMP. Each with the offset
    /// where its IP header ends: mutations start there.
    static var blockedFrames: [(frame: [UInt8], ipEnd: Int)] {
        let v4 = PacketBuilder.Network.ipv4(source: podV4, destination: remoteV4)
        return [
            (PacketBuilder(network: v4, transport: .tcp(source: 40000, destination: 80, flags: 0x02), payload: [1, 2, 3]).build(), 34),
            (
                PacketBuilder(
                    network: .ipv4(source: podV4, destination: remoteV4, options: [7, 11, 4] + [UInt8](repeating: 0, count: 9)),
                    transport: .udp(source: 5, destination: 53), payload: [9]
                ).build(), 46
            ),
            (PacketBuilder(network: v4, transport: .icmp(type: 8, code: 0, identifier: 1), vlanTags: [10]).build(), 38),
            (
                PacketBuilder(network: v4, transport: .tcp(source: 1, destination: 443, flags: 0x02), vlanTags: [10, 20], qinq: true)
                    .build(), 42
            ),
            (
                PacketBuilder(
                    network: .ipv6(
                        source: podV6, destination: remoteV6, extensionHeaders: [.hopByHop(length: 8), .destination(length: 16)]),
                    transport: .tcp(source: 2, destination: 22, flags: 0x02)
                ).build(), 54
            )
        ]
    }

    func blockRemotes() throws {
        try datapath.blocklist.replaceFeed("test", with: [IPPrefix("198.18.0.12/32")!, IPPrefix("fd00:198:18::12/128")!])
    }

    @Test func whateverFollowsTheIPHeaderABlockedPacketIsDropped() throws {
        try blockRemotes()
        var generator = SplitMix64(seed: 0xb10c)
        var sent = 0
        for _ in 0..<3000 {
            let (base, ipEnd) = Self.blockedFrames[Int(generator.next() % UInt64(Self.blockedFrames.count))]
            var frame = base
            // Flip, overwrite or extend bytes after the IP header, then maybe cut the tail.
            for _ in 0..<Int(generator.next() % 8) + 1 where frame.count > ipEnd {
                frame[ipEnd + Int(generator.next() % UInt64(frame.count - ipEnd))] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 3 == 0 {
                frame += (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            if generator.next() % 3 == 0 { frame = Array(frame.prefix(ipEnd + Int(generator.next() % UInt64(frame.count - ipEnd + 1)))) }
            let result = try ProgramTestRun.run(datapath.fromPod, packet: frame)
            #expect(result.returnValue == Self.tcActShot, "not dropped: \(frame.map { String($0, radix: 16) }.joined(separator: " "))")
            sent += 1
        }
        #expect(counter(PW_CNT_DROPS_BLOCKLIST) == UInt64(sent))
    }

    @Test func fragmentedSYNsAreDroppedAndStillShowTheScan() throws {
        // A SYN cut after its first 8 bytes (ports only): the flags are in the second fragment.
        func fragments(port: UInt16) -> [[UInt8]] {
            let whole = PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4, moreFragments: true, identification: port),
                transport: .tcp(source: 40000, destination: port, flags: 0x02)
            ).build()
            let first = Array(whole.prefix(34 + 8))
            let second = PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4, fragmentOffset: 8, identification: port),
                transport: .raw(proto: 6), payload: Array(whole[(34 + 8)...])
            ).build()
            return [first, second]
        }
        for port in UInt16(1)...20 {
            for fragment in fragments(port: port) { try send(fragment) }
        }
        #expect(Set(flows.map(\.key.remotePort)) == Set(1...20), "every probed port is a flow the scan detector sees")
        try blockRemotes()
        for fragment in fragments(port: 21) { try send(fragment, expect: Self.tcActShot) }
        // Overlapping tiny fragments: an offset-0 fragment of 8 bytes, then one that overlaps it.
        let overlap = PacketBuilder(
            network: .ipv4(source: Self.podV4, destination: Self.remoteV4, fragmentOffset: 0, moreFragments: true),
            transport: .raw(proto: 6), payload: [0, 1, 0, 80, 0, 0, 0, 0]
        ).build()
        try send(overlap, expect: Self.tcActShot)
    }

    @Test func anExtensionChainLongerThanTheWalkIsStillJudgedByAddress() throws {
        try blockRemotes()
        let chain = [PacketBuilder.IPv6Extension](repeating: .destination(length: 8), count: Int(PW_IPV6_MAX_EXT_HEADERS) + 4)
        let packet = PacketBuilder(
            network: .ipv6(source: Self.podV6, destination: Self.remoteV6, extensionHeaders: chain),
            transport: .tcp(source: 3, destination: 22, flags: 0x02)
        ).build()
        try send(packet, expect: Self.tcActShot)
        #expect(counter(PW_CNT_IPV6_EXT_LIMIT) == 1)
    }

    @Test func moreFlowsThanTheTableHoldsAreCountedAndEnforcementHolds() throws {
        try blockRemotes()
        let flowsSent = 5000
        for port in 0..<flowsSent {
            try send(
                Self.udp(to: PacketBuilder.v4("198.18.0.13"), payload: [UInt8(port & 0xff), UInt8(port >> 8)])
                    .replacingSourcePort(with: UInt16(1024 + port)))
        }
        let kept = flows.count
        #expect(kept <= 4096 && kept > 0, "the LRU keeps at most its size")
        #expect(counter(PW_CNT_FLOWS_CREATED) == UInt64(flowsSent), "every flow was created; \(flowsSent - kept) were evicted")
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        try send(Self.tcp(0x12, from: false), .toPod, expect: Self.tcActShot)
    }
}

extension Array where Element == UInt8 {
    /// The UDP or TCP source port of an untagged IPv4 frame without options.
    func replacingSourcePort(with port: UInt16) -> [UInt8] {
        var frame = self
        frame[34] = UInt8(port >> 8)
        frame[35] = UInt8(port & 0xff)
        return frame
    }
}
