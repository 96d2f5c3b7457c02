import Foundation
import PodwallCapture
import PodwallDetection
import PodwallReplay
import PodwallTestSupport
import Testing

/// Captures written here, packet by packet, replayed through the detectors.
@Suite struct ReplayTests {
    /// A classic pcap file (microsecond timestamps, Ethernet).
    struct PcapWriter {
        private(set) var data = Data()
        private var time: UInt64 = 1_700_000_000_000_000  // microseconds

        init() {
            append32(0xa1b2_c3d4); append16(2); append16(4); append32(0); append32(0); append32(65535); append32(1)
        }

        mutating func add(_ frame: [UInt8], after microseconds: UInt64 = 1000) {
            time += microseconds
            append32(UInt32(time / 1_000_000)); append32(UInt32(time % 1_000_000))
            append32(UInt32(frame.count)); append32(UInt32(frame.count))
            data.append(contentsOf: frame)
        }

        func write() throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("podwall-replay-\(UUID().uuidString).pcap").path
            try data.write(to: URL(fileURLWithPath: path))
            return path
        }

        private mutating func append16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        private mutating func append32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    }

    static let client = PacketBuilder.v4("198.18.0.11"), server = PacketBuilder.v4("198.18.0.12")

    static func tcp(
        _ flags: UInt8, from source: [UInt8], to destination: [UInt8], _ sourcePort: UInt16, _ destinationPort: UInt16,
        payload: String = "", sequence: UInt32 = 1
    ) -> [UInt8] {
        PacketBuilder(
            network: .ipv4(source: source, destination: destination),
            transport: .tcp(source: sourcePort, destination: destinationPort, flags: flags, sequence: sequence),
            payload: Array(payload.utf8)
        ).build()
    }

    func replay(_ writer: PcapWriter, config: AggregatorConfig = AggregatorConfig()) throws -> [Alert] {
        let path = try writer.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Replay.run(path: path, config: config).alerts.filter { !$0.isUpdate }
    }

    /// The exfiltration interval (and with it the sampling cadence, 4 per
    /// interval) comes from the configuration, as in the agent: a 1.4 MB
    /// burst after a quiet 30 s is a spike in 2-s intervals with a 1 MB
    /// floor, and nothing with the defaults (10 s, 10 MB).
    @Test func theExfiltrationIntervalAndCadenceComeFromTheConfiguration() throws {
        let external = PacketBuilder.v4("203.0.113.9")
        var pcap = PcapWriter()
        pcap.add(Self.tcp(0x02, from: Self.client, to: external, 41000, 443))
        pcap.add(Self.tcp(0x12, from: external, to: Self.client, 443, 41000))
        for _ in 0..<30 { pcap.add(Self.tcp(0x18, from: Self.client, to: external, 41000, 443, payload: "tick"), after: 1_000_000) }
        let chunk = String(repeating: "x", count: 1400)
        for _ in 0..<1000 { pcap.add(Self.tcp(0x18, from: Self.client, to: external, 41000, 443, payload: chunk), after: 1000) }
        pcap.add(Self.tcp(0x18, from: Self.client, to: external, 41000, 443, payload: "tick"), after: 3_000_000)
        #expect(try replay(pcap).isEmpty)
        var config = AggregatorConfig()
        config.exfiltration.intervalNs = 2_000_000_000
        config.exfiltration.floorBytes = 1_000_000
        #expect(config.cadence.sampleNs == 500_000_000)
        let alerts = try replay(pcap, config: config)
        #expect(alerts.map(\.kind) == [.exfiltration], "the pod-to-remote spike; the pod's own folds into it")
        #expect(alerts.allSatisfy { if case .exfiltration(let evidence) = $0.evidence { evidence.intervalSeconds == 2 } else { false } })
    }

    @Test func aVerticalSynScanAnsweredByResetsIsAPortScan() throws {
        var pcap = PcapWriter()
        for port in UInt16(1)...20 {
            pcap.add(Self.tcp(0x02, from: Self.client, to: Self.server, 40000 + port, port))
            pcap.add(Self.tcp(0x14, from: Self.server, to: Self.client, port, 40000 + port), after: 50)
        }
        let alerts = try replay(pcap)
        #expect(alerts.map(\.kind) == [.portScan])
        #expect(alerts.first?.source.address.description == "198.18.0.11")
    }

    @Test func anHTTPExchangeIsQuietAndAnSSHBannerOnPort80IsNot() throws {
        var pcap = PcapWriter()
        func session(_ port: UInt16, request: String, response: String) {
            pcap.add(Self.tcp(0x02, from: Self.client, to: Self.server, port, 80))
            pcap.add(Self.tcp(0x12, from: Self.server, to: Self.client, 80, port))
            pcap.add(Self.tcp(0x10, from: Self.client, to: Self.server, port, 80))
            // Both ISNs are 1: each side's data starts at 2.
            pcap.add(Self.tcp(0x18, from: Self.client, to: Self.server, port, 80, payload: request, sequence: 2))
            pcap.add(Self.tcp(0x18, from: Self.server, to: Self.client, 80, port, payload: response, sequence: 2))
            pcap.add(Self.tcp(0x11, from: Self.client, to: Self.server, port, 80))
        }
        session(50000, request: "GET / HTTP/1.1\r\nHost: web\r\n\r\n", response: "HTTP/1.1 200 OK\r\n\r\n")
        #expect(try replay(pcap).isEmpty)
        session(50001, request: "SSH-2.0-OpenSSH_9.2\r\n", response: "SSH-2.0-OpenSSH_9.2\r\n")
        let alerts = try replay(pcap)
        #expect(alerts.map(\.kind) == [.protocolMismatch])
    }

    @Test func aMissingFileIsOneClearError() {
        #expect(throws: PcapPackets.Failure.self) { try Replay.run(path: "/nonexistent.pcap", config: AggregatorConfig()) }
    }
}
