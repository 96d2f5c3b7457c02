import PodwallCore
import Testing

@testable import PodwallDetection

/// A pod past its event budget is judged from the kernel's summaries.
@Suite("Floods")
struct FloodDetectorTests {
    static let source = AlertSource(address: ip("10.1.0.9"), ifindex: 7, podName: "shop/web")

    @Test("a SYN flood: many new TCP flows opened by a SYN, unanswered")
    func synFlood() throws {
        let summary = FlowSummary(
            ifindex: 7, startNs: 1_000_000_000, endNs: 1_250_000_000, newFlows: 80_000, tcpSyns: 80_000, replies: 1_000,
            remotePortsSketch: 1 << 5, remoteHostsSketch: 1 << 9)
        let alert = try #require(FloodDetector().observe(summary, source: Self.source, now: 1_300_000_000).first)
        #expect(alert.kind == .flood && alert.source.podName == "shop/web")
        guard case .flood(let evidence) = alert.evidence else {
            Issue.record("\(alert.evidence)")
            return
        }
        #expect(evidence.technique == .synFlood)
        #expect(evidence.newFlowsPerSecond == 320_000)
        #expect(evidence.unansweredShare > 0.98)
        #expect(evidence.distinctRemotePorts == 1 && evidence.distinctRemoteHosts == 1 && !evidence.sweep)
    }

    @Test("a UDP flood sweeping ports is a flood with a sweep in it")
    func udpSweep() throws {
        let summary = FlowSummary(
            ifindex: 7, startNs: 0, endNs: 500_000_000, newFlows: 20_000, remotePortsSketch: UInt64.max, remoteHostsSketch: 1)
        let alerts = FloodDetector().observe(summary, source: Self.source, now: 1)
        #expect(alerts.map(\.kind) == [.flood, .portScan], "the scan in it is found too")
        guard case .flood(let evidence) = alerts.first?.evidence, case .portScan(let scan) = alerts.last?.evidence else { return }
        #expect(evidence.technique == .newFlowFlood && evidence.sweep && evidence.distinctRemotePorts > 200)
        #expect(scan.trigger == .flowSummary && scan.scanType == .vertical && scan.probedPorts > 200 && scan.protocolName == "udp")
    }

    @Test("a source the scan settings never judge is no scanner in a summary either; its flood still is")
    func allowlistedSweep() {
        var config = AggregatorConfig()
        config.scan.allowlistedSources = [IPPrefix("10.1.0.0/24")!]
        var aggregator = Aggregator(config: config)
        let summary = FlowSummary(
            ifindex: 7, startNs: 0, endNs: 500_000_000, newFlows: 20_000, remotePortsSketch: UInt64.max, remoteHostsSketch: 1)
        #expect(aggregator.observe(summary, source: Self.source, now: 1).map(\.kind) == [.flood])
    }

    @Test("a busy client past its budget, answered, to many ports, is no scan")
    func busyGateway() {
        let summary = FlowSummary(
            ifindex: 7, startNs: 0, endNs: 250_000_000, newFlows: 2_000, tcpSyns: 2_000, replies: 1_990, remotePortsSketch: UInt64.max)
        #expect(FloodDetector().observe(summary, source: Self.source, now: 1).map(\.kind) == [.flood])
    }

    @Test("a pod just past its budget, slowly, is not a flood")
    func slow() {
        let summary = FlowSummary(ifindex: 7, startNs: 0, endNs: 1_000_000_000, newFlows: 500, tcpSyns: 500)
        #expect(FloodDetector().observe(summary, source: Self.source, now: 1).isEmpty)
    }

    @Test("distinct counts are exact while few")
    func sketches() {
        func ports(_ sketch: UInt64) -> Int {
            FlowSummary(ifindex: 1, startNs: 0, endNs: 1, newFlows: 1, remotePortsSketch: sketch).distinctRemotePorts
        }
        #expect(ports(0) == 0 && ports(0b1) == 1 && ports(0b1011) == 3)
    }
}
