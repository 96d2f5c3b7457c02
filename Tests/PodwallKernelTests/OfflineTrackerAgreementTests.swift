import PodwallCore
import PodwallKernel
import PodwallTestSupport
import Testing

/// `podwall replay` judges captures with the offline flow tracker, the agent
/// with the kernel's flow table: the same frames through BPF_PROG_TEST_RUN
/// and through the tracker must make the same flows (keys, counters per
/// direction, TCP flags, payload snapshots, who opened them, closed or not).
@Suite(.enabled(if: Privileged.enabled, Privileged.reason))
struct OfflineTrackerAgreementTests {
    static let pod = PacketBuilder.v4("198.18.0.11"), remote = PacketBuilder.v4("198.18.0.12")
    static let pod6 = PacketBuilder.v6("fd00:198:18::11"), remote6 = PacketBuilder.v6("fd00:198:18::12")

    /// One frame and the side it leaves from.
    struct Frame {
        let bytes: [UInt8]
        let fromPod: Bool
    }

    static func tcp(_ flags: UInt8, fromPod: Bool, port: UInt16 = 40000, sequence: UInt32 = 1, payload: String = "") -> Frame {
        Frame(
            bytes: PacketBuilder(
                network: .ipv4(source: fromPod ? pod : remote, destination: fromPod ? remote : pod),
                transport: .tcp(source: fromPod ? port : 80, destination: fromPod ? 80 : port, flags: flags, sequence: sequence),
                payload: Array(payload.utf8)
            ).build(), fromPod: fromPod)
    }

    static func udp(fromPod: Bool, payload: String) -> Frame {
        Frame(
            bytes: PacketBuilder(
                network: .ipv6(source: fromPod ? pod6 : remote6, destination: fromPod ? remote6 : pod6),
                transport: .udp(source: fromPod ? 5353 : 53, destination: fromPod ? 53 : 5353),
                payload: Array(payload.utf8)
            ).build(), fromPod: fromPod)
    }

    static func echo(fromPod: Bool) -> Frame {
        Frame(
            bytes: PacketBuilder(
                network: .ipv4(source: fromPod ? pod : remote, destination: fromPod ? remote : pod),
                transport: .icmp(type: fromPod ? 8 : 0, code: 0, identifier: 77), payload: Array("ping".utf8)
            ).build(), fromPod: fromPod)
    }

    /// Pod-opened flows (the tracker takes the first sender for the pod):
    /// an HTTP exchange whose response headers arrive after its body, a
    /// retransmission, both FINs; a reset connection and a new one on its
    /// ports; DNS over IPv6; a ping.
    static let frames: [Frame] = {
        let headers = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        return [
            tcp(0x02, fromPod: true, sequence: 1000),
            tcp(0x12, fromPod: false, sequence: 7000),
            tcp(0x10, fromPod: true, sequence: 1001),
            tcp(0x18, fromPod: true, sequence: 1001, payload: request),
            tcp(0x18, fromPod: false, sequence: 7001 + UInt32(headers.utf8.count), payload: "hello"),
            tcp(0x18, fromPod: false, sequence: 7001, payload: headers),
            tcp(0x18, fromPod: true, sequence: 1001, payload: request),
            tcp(0x11, fromPod: true, sequence: 1001 + UInt32(request.utf8.count)),
            tcp(0x11, fromPod: false, sequence: 7006 + UInt32(headers.utf8.count)),
            tcp(0x02, fromPod: true, port: 40001, sequence: 5),
            tcp(0x14, fromPod: false, port: 40001, sequence: 0),
            // The same ports again after the reset: a new connection, a new flow.
            tcp(0x02, fromPod: true, port: 40001, sequence: 9000),
            tcp(0x12, fromPod: false, port: 40001, sequence: 3000),
            tcp(0x18, fromPod: true, port: 40001, sequence: 9001, payload: "uname -a\n"),
            udp(fromPod: true, payload: "query"),
            udp(fromPod: false, payload: "answer"),
            echo(fromPod: true),
            echo(fromPod: false)
        ]
    }()

    /// What both must agree on; times differ (two clocks) and so does the
    /// interface (the tracker has none).
    struct Comparable: Hashable, CustomStringConvertible {
        let record: FlowRecord

        init(_ record: FlowRecord) {
            var record = record
            record.key.ifindex = 0
            record.firstSeen = 0
            record.lastSeen = 0
            self.record = record
        }

        var description: String {
            "\(record.key) from pod \(record.fromPod) to pod \(record.toPod) opened by pod \(record.podInitiated) closed \(record.closed)"
        }
    }

    @Test(
        .enabled(
            if: KernelFeatures.probe().sequenceSnapshot && KernelFeatures.probe().reopensEndedFlows,
            "the compat build (Linux < 5.12) snapshots the first payload seen and does not reopen ended flows"))
    func theKernelAndTheOfflineTrackerMakeTheSameFlows() throws {
        LibbpfLog.capture(echo: false)
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096))
        var tracker = OfflineFlowTracker()
        for (index, frame) in Self.frames.enumerated() {
            _ = try ProgramTestRun.run(frame.fromPod ? datapath.fromPod : datapath.toPod, packet: frame.bytes)
            let decoded = try #require(
                frame.bytes.withUnsafeBytes {
                    PacketDecoder.decode($0, linkType: .ethernet, wireLength: frame.bytes.count)
                }, "frame \(index)")
            _ = tracker.observe(decoded, timestamp: UInt64(index))
        }
        let kernel = Set(datapath.flows.records().map(Comparable.init))
        let offline = Set(tracker.records.map(Comparable.init))
        #expect(kernel.count == 4)
        let http = try #require(kernel.first { $0.record.key.podPort == 40000 }).record
        #expect(
            Array(http.toPod.payload).starts(with: Array("HTTP/1.1 200".utf8)) && http.closed && http.fromPod.packets == 5,
            "the snapshot is the segment at ISN + 1, not the body that came first: \(http)")
        let reused = try #require(kernel.first { $0.record.key.podPort == 40001 }).record
        #expect(
            Array(reused.fromPod.payload) == Array("uname -a\n".utf8) && !reused.closed && reused.fromPod.packets == 2,
            "a SYN on the reset flow's ports opened a new flow: \(reused)")
        #expect(kernel == offline, "kernel only: \(kernel.subtracting(offline)); tracker only: \(offline.subtracting(kernel))")
    }
}
