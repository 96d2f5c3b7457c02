import PodwallABI
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Glibc
import Testing

/// The TC programs on crafted packets through BPF_PROG_TEST_RUN, on private
/// (unpinned) maps. The programs are loaded once for the suite, and each
/// test starts from the maps as that load left them: a load per test cost
/// the kernel matrix's emulated 5.10 half an hour of verifying.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct DatapathTestRunTests {
    static let tcActUnspec: Int32 = -1
    static let tcActShot: Int32 = 2
    static let podV4 = PacketBuilder.v4("198.18.0.11")
    static let remoteV4 = PacketBuilder.v4("198.18.0.12")
    static let podV6 = PacketBuilder.v6("fd00:198:18::11")
    static let remoteV6 = PacketBuilder.v6("fd00:198:18::12")

    let datapath: Datapath

    /// The one load, and its maps as it left them.
    static let loaded = Result {
        LibbpfLog.capture(echo: false)
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096))
        return (datapath, try datapath.snapshot())
    }

    init() throws {
        let (loaded, snapshot) = try Self.loaded.get()
        datapath = try loaded.restored(to: snapshot)
    }

    /// Runs one packet leaving the pod (or entering it) and checks the verdict.
    @discardableResult
    func send(
        _ packet: [UInt8], _ direction: FlowDirection = .fromPod, expect verdict: Int32 = tcActUnspec,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ProgramTestRun {
        let program = direction == .fromPod ? datapath.fromPod : datapath.toPod
        let result = try ProgramTestRun.run(program, packet: packet)
        #expect(result.returnValue == verdict, "verdict", sourceLocation: sourceLocation)
        return result
    }

    /// Like `send`, but the kernel itself refuses (EINVAL) to build an skb
    /// whose IP header is incomplete; those lengths are reported as refused.
    /// Frames with VLAN tags are not checked by the kernel and do reach the program.
    func sendShort(_ packet: [UInt8]) throws -> Bool {
        do {
            try send(packet)
            return true
        } catch let error as KernelError where error.errno == EINVAL && packet.count < 14 + 40 {
            return false
        }
    }

    var flows: [FlowRecord] {
        datapath.flows.records()
    }

    func counter(_ counter: pw_counter) -> UInt64 {
        datapath.counters.value(counter)
    }

    /// A segment of the test flow; `sequence` 1 is the SYN's (the ISN), so
    /// a direction's first payload starts at 2.
    static func tcp(
        _ flags: UInt8, from pod: Bool = true, payload: [UInt8] = [], options: [UInt8] = [],
        sequence: UInt32 = 1
    ) -> [UInt8] {
        PacketBuilder(
            network: .ipv4(source: pod ? podV4 : remoteV4, destination: pod ? remoteV4 : podV4, options: options),
            transport: .tcp(source: pod ? 40000 : 80, destination: pod ? 80 : 40000, flags: flags, sequence: sequence),
            payload: payload
        ).build()
    }

    @Test func eachTestStartsFromTheMapsAsTheLoadLeftThem() throws {
        let (_, loadedMaps) = try Self.loaded.get()
        try block("198.18.0.12")
        try send(Self.tcp(0x02), expect: Self.tcActShot)
        try send(Self.udp(to: PacketBuilder.v4("198.18.0.50")))
        try datapath.quarantine.quarantine(1, since: MonotonicClock.now(), for: nil)
        let changed = try datapath.snapshot().differingMaps(from: loadedMaps)
        #expect(Set(changed).isSuperset(of: [PW_MAP_FLOWS_NAME, PW_MAP_COUNTERS_NAME, PW_MAP_BLOCK_HOSTS_NAME, PW_MAP_QUARANTINE_NAME]))
        let restored = try datapath.restored(to: loadedMaps)
        #expect(try restored.snapshot().differingMaps(from: loadedMaps) == [])
        #expect(try RingBufferReader.drain(mapFD: restored.eventsFD) { FlowEvent(record: $0) }.isEmpty)
        #expect(restored.blocklist.entries().isEmpty, "and the tables start empty too")
    }

    @Test func tcpHandshakeIsOneFlowWithBothDirections() throws {
        let syn = Self.tcp(0x02), synAck = Self.tcp(0x12, from: false), ack = Self.tcp(0x10)
        try send(syn)
        try send(synAck, .toPod)
        try send(ack)
        let flow = try #require(flows.first)
        #expect(flows.count == 1)
        #expect(flow.key.proto == .tcp)
        #expect(flow.key.pod.description == "198.18.0.11" && flow.key.podPort == 40000)
        #expect(flow.key.remote.description == "198.18.0.12" && flow.key.remotePort == 80)
        #expect(flow.podInitiated)
        #expect(flow.fromPod.packets == 2 && flow.fromPod.bytes == UInt64(syn.count + ack.count))
        #expect(flow.toPod.packets == 1 && flow.toPod.bytes == UInt64(synAck.count))
        #expect(flow.fromPod.tcpFlags == [.syn, .ack] && flow.toPod.tcpFlags == [.syn, .ack])
        #expect(counter(PW_CNT_PACKETS) == 3 && counter(PW_CNT_FLOWS_CREATED) == 1)
    }

    @Test func newPayloadAndEndEventsAreSentOncePerFlow() throws {
        let request = Array("GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n".utf8)
        try send(Self.tcp(0x02))
        try send(Self.tcp(0x18, payload: request, sequence: 2))
        try send(Self.tcp(0x18, payload: Array("second".utf8), sequence: 2 + UInt32(request.count)))
        try send(Self.tcp(0x11))
        try send(Self.tcp(0x11, from: false), .toPod)
        let events = try RingBufferReader.drain(mapFD: datapath.eventsFD) { FlowEvent(record: $0) }
        #expect(events.map(\.kind) == [.new, .payload, .end(.fin), .reply])
        let payload = try #require(events.first { $0.kind == .payload })
        #expect(payload.flow.fromPod.payload.bytes == Array(request.prefix(Int(PW_PAYLOAD_SNAP))))
        #expect(
            flows.first?.fromPod.payload.bytes == Array(request.prefix(Int(PW_PAYLOAD_SNAP))),
            "a later packet must not overwrite the snapshot")
    }

    /// Exfiltration is judged as the bytes go: one event per MiB the pod sends
    /// on a flow it opened; none for what it receives or sends on a flow
    /// opened toward it.
    @Test(.enabled(if: KernelFeatures.probe().volumeEvents, "the compat build (Linux < 5.12) sends none"), arguments: [true, false])
    func aFlowThePodOpenedSendsAVolumeEventPerMebibyteFromThePod(podOpened: Bool) throws {
        let segment = [UInt8](repeating: 0x61, count: 1400)
        let step = 1 << Int(PW_VOLUME_STEP_SHIFT)
        let runs = UInt32(5 * step / 2 / (segment.count + 54))  // 2.5 MiB each way
        if podOpened {
            try send(Self.tcp(0x02))
        } else {
            try send(Self.tcp(0x02, from: false), .toPod)
        }
        _ = try ProgramTestRun.run(datapath.fromPod, packet: Self.tcp(0x18, payload: segment, sequence: 2), repeat: runs)
        _ = try ProgramTestRun.run(
            datapath.toPod, packet: Self.tcp(0x18, from: false, payload: segment, sequence: 2), repeat: runs)
        let volumes = try RingBufferReader.drain(mapFD: datapath.eventsFD) { FlowEvent(record: $0) }.filter { $0.kind == .volume }
        #expect(volumes.map { $0.flow.fromPod.bytes / UInt64(step) } == (podOpened ? [1, 2] : []))
        #expect(volumes.allSatisfy { $0.direction == .fromPod && $0.flow.podInitiated })
    }

    @Test func theSnapshotIsTheSegmentAtISNPlusOneWhateverArrivesFirst() throws {
        let headers = Array("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".utf8)
        try send(Self.tcp(0x02))
        try send(Self.tcp(0x12, from: false, sequence: 7000), .toPod)
        // The body overtakes its headers (another CPU), a retransmission of
        // a later offset follows: neither is the start of the stream.
        try send(Self.tcp(0x18, from: false, payload: Array("<!DOCTYPE HTML>".utf8), sequence: 7001 + UInt32(headers.count)), .toPod)
        try send(Self.tcp(0x18, from: false, payload: Array("<!DOCTYPE HTML>".utf8), sequence: 7001 + UInt32(headers.count)), .toPod)
        guard datapath.features.sequenceSnapshot else {
            // The compat build (Linux < 5.12) keeps the first payload it sees.
            #expect(flows.first?.toPod.payload.bytes == Array("<!DOCTYPE HTML>".utf8))
            return
        }
        #expect(flows.first?.toPod.payload == [])
        try send(Self.tcp(0x18, from: false, payload: headers, sequence: 7001), .toPod)
        let events = try RingBufferReader.drain(mapFD: datapath.eventsFD) { FlowEvent(record: $0) }
        #expect(events.map(\.kind) == [.new, .reply, .payload])
        #expect(flows.first?.toPod.payload.bytes == Array(headers.prefix(Int(PW_PAYLOAD_SNAP))))
    }

    @Test func aTCPFlowWhoseSynWasNotSeenHasNoSnapshot() throws {
        try send(Self.tcp(0x18, payload: Array("GET / HTTP/1.1\r\n".utf8), sequence: 2))
        try send(Self.tcp(0x18, payload: Array("SSH-2.0-x\r\n".utf8), sequence: 900))
        let events = try RingBufferReader.drain(mapFD: datapath.eventsFD) { FlowEvent(record: $0) }
        guard datapath.features.sequenceSnapshot else {
            // The compat build (Linux < 5.12) keeps the first payload it sees.
            #expect(events.map(\.kind) == [.new, .payload])
            #expect(flows.first?.fromPod.payload.bytes == Array("GET / HTTP/1.1\r\n".utf8))
            return
        }
        #expect(events.map(\.kind) == [.new])
        #expect(flows.first?.fromPod.payload == [])
    }

    /// A client's next connection on the same ports, or one an attacker binds
    /// there, must not hide behind the ended flow's snapshot.
    @Test(.enabled(if: KernelFeatures.probe().reopensEndedFlows, "the compat build (Linux < 5.12) accounts it to the ended flow"))
    func aSynOnAnEndedFlowOpensANewFlow() throws {
        try send(Self.tcp(0x02))
        try send(Self.tcp(0x18, payload: Array("GET / HTTP/1.1\r\n".utf8), sequence: 2))
        try send(Self.tcp(0x11, sequence: 18))
        try send(Self.tcp(0x02, sequence: 500))
        try send(Self.tcp(0x18, payload: Array("id\n".utf8), sequence: 501))
        let events = try RingBufferReader.drain(mapFD: datapath.eventsFD) { FlowEvent(record: $0) }
        #expect(events.map(\.kind) == [.new, .payload, .end(.fin), .new, .payload])
        #expect(flows.count == 1 && flows.first?.fromPod.payload == PayloadPrefix(Array("id\n".utf8)) && flows.first?.fromPod.packets == 2)
        #expect(counter(PW_CNT_FLOWS_CREATED) == 2)
    }

    @Test func aSynsOwnDataIsTheSnapshot() throws {
        try send(Self.tcp(0x02, payload: Array("GET / HTTP/1.1\r\n".utf8), sequence: 41))
        #expect(flows.first?.fromPod.payload.bytes == Array("GET / HTTP/1.1\r\n".utf8))
    }

    @Test func aSynAckIsTheReplyABareResetIsNot() throws {
        try send(Self.tcp(0x02))
        try send(Self.tcp(0x12, from: false), .toPod)
        try send(Self.tcp(0x10))
        try send(Self.tcp(0x10, from: false), .toPod)
        let events = try RingBufferReader.drain(mapFD: datapath.eventsFD) { FlowEvent(record: $0) }
        #expect(events.map(\.kind) == [.new, .reply])
        #expect(events.last?.flow.toPod.tcpFlags == [.syn, .ack])
    }

    @Test func resetEndsAFlowWithReasonRST() throws {
        try send(Self.tcp(0x02))
        try send(Self.tcp(0x14, from: false), .toPod)
        let events = try RingBufferReader.drain(mapFD: datapath.eventsFD) { FlowEvent(record: $0) }
        #expect(events.map(\.kind) == [.new, .end(.rst)])
        #expect(events.last?.direction == .toPod)
    }

    @Test func udpAndICMPEchoOverIPv4AndIPv6() throws {
        try send(
            PacketBuilder(
                network: .ipv6(source: Self.podV6, destination: Self.remoteV6), transport: .udp(source: 5353, destination: 53),
                payload: [1, 2, 3]
            ).build())
        try send(
            PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4), transport: .icmp(type: 8, code: 0, identifier: 77)
            ).build())
        try send(
            PacketBuilder(
                network: .ipv4(source: Self.remoteV4, destination: Self.podV4), transport: .icmp(type: 0, code: 0, identifier: 77)
            ).build(), .toPod)
        try send(
            PacketBuilder(
                network: .ipv6(source: Self.podV6, destination: Self.remoteV6), transport: .icmpv6(type: 128, code: 0, identifier: 9)
            ).build())
        try send(
            PacketBuilder(
                network: .ipv6(source: Self.remoteV6, destination: Self.podV6), transport: .icmpv6(type: 129, code: 0, identifier: 9)
            ).build(), .toPod)
        let byProto = Dictionary(grouping: flows, by: \.key.proto)
        #expect(byProto[.udp]?.first?.key.remote.description == "fd00:198:18::12")
        #expect(byProto[.udp]?.first?.key.remotePort == 53)
        #expect(byProto[.icmp]?.count == 1, "echo request and reply share one flow")
        #expect(byProto[.icmp]?.first.map { $0.fromPod.packets == 1 && $0.toPod.packets == 1 } == true)
        #expect(byProto[.icmpv6]?.count == 1)
    }

    @Test(arguments: [[UInt16](), [100], [100, 200]])
    func vlanAndQinQTagsAreParsed(tags: [UInt16]) throws {
        let packet = PacketBuilder(
            network: .ipv4(source: Self.podV4, destination: Self.remoteV4), transport: .udp(source: 1000, destination: 2000),
            vlanTags: tags, qinq: tags.count == 2
        ).build()
        try send(packet)
        #expect(flows.count == 1 && flows.first?.key.remotePort == 2000)
    }

    @Test func ipv4OptionsOfEveryLengthAreSkipped() throws {
        for words in 1...10 {
            let options = [UInt8](repeating: 1, count: words * 4)  // NOPs
            try send(Self.tcp(0x02, options: options))
        }
        #expect(flows.count == 1, "every packet belongs to the same flow whatever its options")
        #expect(flows.first?.key.remotePort == 80 && flows.first?.fromPod.packets == 10)
        #expect(counter(PW_CNT_PARSE_ERRORS) == 0)
    }

    @Test func laterFragmentsJoinTheFlowOfTheFirst() throws {
        // First fragment: UDP header, more fragments follow.
        try send(
            PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4, moreFragments: true, identification: 42),
                transport: .udp(source: 3000, destination: 4000), payload: [UInt8](repeating: 7, count: 64)
            ).build())
        // Second fragment: its first bytes look like ports 0x0102/0x0304 and must not be read as such.
        try send(
            PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4, fragmentOffset: 72, identification: 42),
                transport: .raw(proto: 17), payload: [1, 2, 3, 4, 5, 6, 7, 8]
            ).build())
        #expect(flows.count == 1)
        #expect(flows.first?.key.podPort == 3000 && flows.first?.fromPod.packets == 2)
        #expect(counter(PW_CNT_FRAGMENTS) == 2)
    }

    @Test func aLaterFragmentWithoutItsFirstIsCountedNotMisparsed() throws {
        try send(
            PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4, fragmentOffset: 1480, identification: 9),
                transport: .raw(proto: 6), payload: [0, 80, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02]
            ).build())
        #expect(flows.isEmpty)
        #expect(counter(PW_CNT_FRAGMENTS) == 1 && counter(PW_CNT_FRAGMENTS_UNTRACKED) == 1)
    }

    @Test func ipv6ExtensionHeadersAreWalkedUpToTheBound() throws {
        let extensions: [PacketBuilder.IPv6Extension] = [.hopByHop(length: 8), .routing(length: 24), .destination(length: 16)]
        try send(
            PacketBuilder(
                network: .ipv6(source: Self.podV6, destination: Self.remoteV6, extensionHeaders: extensions),
                transport: .tcp(source: 5000, destination: 443, flags: 0x02)
            ).build())
        #expect(flows.first?.key.remotePort == 443)

        let tooMany = [PacketBuilder.IPv6Extension](repeating: .destination(length: 8), count: Int(PW_IPV6_MAX_EXT_HEADERS) + 1)
        try send(
            PacketBuilder(
                network: .ipv6(source: Self.podV6, destination: Self.remoteV6, extensionHeaders: tooMany),
                transport: .tcp(source: 5001, destination: 443, flags: 0x02)
            ).build())
        #expect(flows.count == 1, "a chain past the bound is not parsed into a flow")
        #expect(counter(PW_CNT_IPV6_EXT_LIMIT) == 1)
    }

    @Test func ipv6FragmentsJoinTheirFlow() throws {
        try send(
            PacketBuilder(
                network: .ipv6(
                    source: Self.podV6, destination: Self.remoteV6,
                    extensionHeaders: [.fragment(offset: 0, more: true, identification: 5)]),
                transport: .udp(source: 6000, destination: 7000), payload: [UInt8](repeating: 0, count: 32)
            ).build())
        try send(
            PacketBuilder(
                network: .ipv6(
                    source: Self.podV6, destination: Self.remoteV6,
                    extensionHeaders: [.fragment(offset: 40, more: false, identification: 5)]),
                transport: .raw(proto: 17), payload: [9, 9, 9, 9, 9, 9, 9, 9]
            ).build())
        #expect(flows.count == 1 && flows.first?.fromPod.packets == 2 && flows.first?.key.remotePort == 7000)
    }

    @Test func badHeaderLengthsAreParseErrorsNotFlows() throws {
        var badIHL = Self.tcp(0x02)
        badIHL[14] = 0x44  // IHL 4 < 5
        try send(badIHL)
        try send(
            PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4),
                transport: .tcp(source: 1, destination: 2, flags: 0x02, dataOffsetWords: 3)
            ).build())
        var wrongVersion = Self.tcp(0x02)
        wrongVersion[14] = 0x55
        try send(wrongVersion)
        #expect(flows.isEmpty)
        #expect(counter(PW_CNT_PARSE_ERRORS) == 3)
    }

    @Test func truncationAtEveryLengthNeverMakesAWrongFlow() throws {
        let packets = [
            Self.tcp(0x02, payload: [1, 2, 3], options: [1, 1, 1, 1]),
            PacketBuilder(
                network: .ipv6(source: Self.podV6, destination: Self.remoteV6, extensionHeaders: [.hopByHop(length: 8)]),
                transport: .udp(source: 1, destination: 2), payload: [0]
            ).build(),
            PacketBuilder(
                network: .ipv4(source: Self.podV4, destination: Self.remoteV4), transport: .icmp(type: 8, code: 0, identifier: 3),
                vlanTags: [5]
            ).build()
        ]
        for packet in packets {
            for length in 14..<packet.count {
                _ = try sendShort(Array(packet.prefix(length)))
            }
        }
        // Truncated packets may still parse to L4 when only payload is cut;
        // then the flow must be the right one. Nothing else may appear.
        for flow in flows {
            #expect([80, 2, 3].contains(flow.key.remotePort), "unexpected flow \(flow.key)")
        }
        #expect(counter(PW_CNT_PARSE_ERRORS) > 0)
    }

    @Test func randomGarbageNeverFailsTheProgram() throws {
        var generator = SplitMix64(seed: 0x90d)
        var sent: UInt64 = 0
        for _ in 0..<2000 {
            let length = Int(generator.next() % 200) + 15
            var packet = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Half the time make it look like IPv4 or IPv6 so parsing goes deeper.
            if generator.next() % 2 == 0 {
                packet[12] = generator.next() % 2 == 0 ? 0x08 : 0x86
                packet[13] = packet[12] == 0x08 ? 0x00 : 0xdd
                packet[14] = packet[12] == 0x08 ? 0x45 : 0x60
            }
            if try sendShort(packet) { sent += 1 }
        }
        #expect(counter(PW_CNT_PACKETS) == sent)
    }

    @Test func nonIPIsCountedAndPassed() throws {
        var arp = [UInt8](repeating: 0, count: 42)
        arp[12] = 0x08
        arp[13] = 0x06
        try send(arp)
        #expect(counter(PW_CNT_NON_IP) == 1 && flows.isEmpty)
    }
}
