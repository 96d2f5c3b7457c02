import PodwallCore

/// A pod opening new flows faster than its event budget lets the kernel
/// report them: it sees only the kernel's summaries (FlowSummary), one per
/// interval while the flood goes on. A SYN flood shows as TCP flows opened
/// by a SYN that go unanswered; a sweep hidden in the flood as many distinct
/// remote ports or hosts.
public struct FloodDetector: Sendable {
    public struct Config: Sendable, Equatable {
        /// New flows a second over one summary that make a flood.
        public var minNewFlowsPerSecond: Double = 1000
        /// Distinct remote ports (or hosts) in one summary that make it a sweep too.
        public var sweepDistinct = 50

        public init() {}
    }

    public var config: Config

    public init(config: Config = Config()) {
        self.config = config
    }

    public func observe(_ summary: FlowSummary, source: AlertSource, now: UInt64) -> [Alert] {
        guard summary.newFlows > 0, summary.newFlowsPerSecond >= config.minNewFlowsPerSecond else { return [] }
        let evidence = FloodEvidence(summary, sweepDistinct: config.sweepDistinct)
        return [
            Alert(kind: .flood, severity: .high, source: source, flows: [], evidence: .flood(evidence), decidingNs: summary.endNs, now: now)
        ]
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
        newFlowsPerSecond = summary.newFlowsPerSecond
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
