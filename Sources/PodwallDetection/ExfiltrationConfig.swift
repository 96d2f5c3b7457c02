import PodwallCore

/// Settings for `ExfiltrationDetector`.
public struct ExfiltrationConfig: Sendable, Equatable {
    /// Egress is summed per interval aligned to multiples of this (kernel clock).
    /// Samples should arrive several times per interval so jitter does not shift whole samples.
    public var intervalNs: UInt64 = 10_000_000_000
    /// EWMA weight of the newest interval.
    public var lambda = 0.25
    /// Alert above mean + k·σ ...
    public var k = 3.0
    /// ... with σ never taken below this fraction of the mean (see `EWMABaseline.threshold`).
    public var minRelativeSigma = 0.1
    /// ... and above this many bytes per interval (10 MB), so tiny baselines stay quiet.
    public var floorBytes: UInt64 = 10_000_000
    /// Intervals observed before a series may alert.
    public var warmupIntervals = 6
    /// Destinations inside these prefixes are cluster traffic and never counted.
    /// Defaults to private, CGNAT, loopback and ULA space; set the real pod/service CIDRs.
    public var clusterCIDRs: [IPPrefix] = [
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
        "127.0.0.0/8", "fc00::/7", "::1/128"
    ].compactMap { IPPrefix($0) }
    public var maxPods = 65_536
    public var maxPairs = 262_144
    public var maxFlows = 1_048_576
    /// A (pod, remote) series with no traffic for this many intervals is forgotten (10 min).
    public var pairIdleIntervals: UInt64 = 60
    /// A pod series with no traffic for this many intervals is forgotten (1 h), so departed
    /// pods free their slots; full tables refuse new series and count them.
    public var podIdleIntervals: UInt64 = 360
    /// A flow counter with no sample for this long is forgotten (ends are forgotten at once).
    public var flowIdleNs: UInt64 = 600_000_000_000
    /// How often `tick` sweeps idle state.
    public var sweepEveryNs: UInt64 = 60_000_000_000

    public init() {}
}
