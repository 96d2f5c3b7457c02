import PodwallCore

/// A pod opening new flows faster than its event budget lets the kernel
/// report them: it sees only the kernel's summaries (FlowSummary), one per
/// interval while the flood goes on. A SYN flood shows as TCP flows opened
/// by a SYN that go unanswered; a scan hidden in the flood (its probes
/// summarized with the rest) as many distinct remote ports or hosts, mostly
/// unanswered: a port_scan alert of its own. A busy client past its budget
/// (a gateway opening thousands of connections a second) gets its answers.
public struct FloodDetector: Sendable {
    public struct Config: Sendable, Equatable {
        /// New flows a second over one summary that make a flood.
        public var minNewFlowsPerSecond: Double = 1000
        /// Distinct remote ports (or hosts) in one summary that make it a sweep too.
        public var sweepDistinct = 100
        /// The share of a sweep's new flows left unanswered that makes it a scan.
        public var scanUnansweredShare = 0.5

        public init() {}
    }

    public var config: Config

    public init(config: Config = Config()) {
        self.config = config
    }

    public func observe(_ summary: FlowSummary, source: AlertSource, now: UInt64) -> [Alert] {
        // Flows opened from outside are the pod being flooded, not flooding:
        // counted (metrics), not alerted on as its own doing.
        guard summary.podInitiated > 0, summary.podInitiated * 2 >= summary.newFlows else { return [] }
        let evidence = FloodEvidence(summary, sweepDistinct: config.sweepDistinct)
        var alerts: [Alert] = []
        if summary.podInitiatedPerSecond >= config.minNewFlowsPerSecond {
            alerts.append(
                Alert(
                    kind: .flood, severity: .high, source: source, flows: [], evidence: .flood(evidence), decidingNs: summary.endNs,
                    now: now))
        }
        if evidence.sweep, summary.unansweredShare >= config.scanUnansweredShare {
            alerts.append(
                Alert(
                    kind: .portScan, severity: .high, source: source, flows: [], evidence: .portScan(Self.scan(summary, evidence)),
                    decidingNs: summary.endNs, now: now))
        }
        return alerts
    }

    /// A scan as the summary shows it: counts, not probes.
    static func scan(_ summary: FlowSummary, _ flood: FloodEvidence) -> ScanEvidence {
        let unanswered = Int(clamping: summary.newFlows - min(summary.newFlows, summary.replies))
        return ScanEvidence(
            trigger: .flowSummary, scanType: flood.distinctRemotePorts >= flood.distinctRemoteHosts ? .vertical : .horizontal,
            protocolName: summary.tcpSyns == summary.newFlows ? "tcp" : summary.tcpSyns == 0 ? "udp" : "tcp+udp",
            probedHosts: flood.distinctRemoteHosts, probedPorts: flood.distinctRemotePorts, failures: unanswered,
            successes: Int(clamping: summary.replies), unanswered: unanswered, failureRatio: summary.unansweredShare,
            firstProbeNs: summary.startNs, lastProbeNs: summary.endNs, trwScore: 0, tcpProbeStyles: summary.tcpSyns > 0 ? ["syn"] : [])
    }
}

public struct FloodEvidence: Sendable, Equatable, Codable {
    public enum Technique: String, Sendable, Codable {
        /// Mostly TCP SYNs, mostly unanswered.
        case synFlood = "syn_flood"
        /// New flows of any other kind (UDP with changing ports, ...).
        case newFlowFlood = "new_flow_flood"
    }

    public var technique: Technique
    public var newFlows: UInt64
    public var newFlowsPerSecond: Double
    public var tcpSyns: UInt64
    public var unansweredShare: Double
    public var distinctRemotePorts: Int
    public var distinctRemoteHosts: Int
    /// Many distinct ports or hosts: a scan may be hidden in the flood.
    public var sweep: Bool
    public var intervalStartNs: UInt64
    public var intervalSeconds: Double

    public init(_ summary: FlowSummary, sweepDistinct: Int) {
        newFlows = summary.newFlows
        newFlowsPerSecond = summary.podInitiatedPerSecond
        tcpSyns = summary.tcpSyns
        unansweredShare = summary.unansweredShare
        technique = summary.tcpSyns * 2 >= summary.newFlows && unansweredShare >= 0.5 ? .synFlood : .newFlowFlood
        distinctRemotePorts = summary.distinctRemotePorts
        distinctRemoteHosts = summary.distinctRemoteHosts
        sweep = distinctRemotePorts >= sweepDistinct || distinctRemoteHosts >= sweepDistinct
        intervalStartNs = summary.startNs
        intervalSeconds = summary.seconds
    }

    enum CodingKeys: String, CodingKey {
        case technique, sweep
        case newFlows = "new_flows"
        case newFlowsPerSecond = "new_flows_per_second"
        case tcpSyns = "tcp_syns"
        case unansweredShare = "unanswered_share"
        case distinctRemotePorts = "distinct_remote_ports"
        case distinctRemoteHosts = "distinct_remote_hosts"
        case intervalStartNs = "interval_start_ns"
        case intervalSeconds = "interval_seconds"
    }
}
