import PodwallCore

/// Settings for `ScanDetector`.
///
/// TRW parameters are the published ones (Jung, Paxson, Berger, Balakrishnan 2004):
/// θ0 = 0.8, θ1 = 0.2, PD = 0.99, PF = 0.01, giving steps of ln 4 per failed and ln ¼ per
/// successful first contact and thresholds ±ln 99, so four straight failures flag a source.
///
/// Fan-out: Snort 3's port_scan "low" sensitivity (5 ports / 25 hosts per 60 s) fires on
/// ordinary Kubernetes clients (sidecars, service meshes, Prometheus scraping several ports of
/// one pod), so vertical is raised to 15 ports; 25 hosts per port is kept, above a typical
/// health checker's fan-out (bigger checkers go in `detection.scan.allow_sources`).
public struct ScanConfig: Sendable, Equatable {
    /// θ0: chance that a benign source's first contact succeeds.
    public var benignSuccessProbability = 0.8
    /// θ1: chance that a scanner's first contact succeeds.
    public var scannerSuccessProbability = 0.2
    /// PD: wanted detection probability.
    public var detectionProbability = 0.99
    /// PF: tolerated false-positive probability.
    public var falsePositiveProbability = 0.01
    /// A first contact without any reply after this long counts as failed.
    public var replyTimeoutNs: UInt64 = 3_000_000_000
    public var fanoutWindowNs: UInt64 = 60_000_000_000
    /// A contacted target not contacted again for this long is forgotten: contacting it later
    /// is a first contact again (a re-scan of the same ports is judged), while retries closer
    /// together than this count once (longer than the fan-out window and than most clients'
    /// retry back-off).
    public var contactMemoryNs: UInt64 = 120_000_000_000
    /// Distinct ports on one host within the window.
    public var verticalPortThreshold = 15
    /// Distinct hosts on one port within the window.
    public var horizontalHostThreshold = 25
    /// Sources never judged (health checkers, monitoring, mesh control planes): `detection.scan.allow_sources`.
    public var allowlistedSources: [IPPrefix] = []
    public var maxSources = 65_536
    public var maxContactsPerSource = 4_096
    public var maxPendingProbes = 262_144

    public init() {}
}

/// The TRW step sizes and thresholds derived from a `ScanConfig`.
struct TRWModel: Sendable {
    let successStep: Double
    let failureStep: Double
    /// η1 = ln(PD / PF): at or above, the source is a scanner.
    let upperThreshold: Double
    /// η0 = ln((1 − PD) / (1 − PF)): at or below, the source is benign and the walk restarts.
    let lowerThreshold: Double

    init(_ config: ScanConfig) {
        let theta0 = config.benignSuccessProbability, theta1 = config.scannerSuccessProbability
        let pd = config.detectionProbability, pf = config.falsePositiveProbability
        successStep = naturalLog(theta1 / theta0)
        failureStep = naturalLog((1 - theta1) / (1 - theta0))
        upperThreshold = naturalLog(pd / pf)
        lowerThreshold = naturalLog((1 - pd) / (1 - pf))
    }
}

/// ln(x) for x > 0 without libm: x = m·2^e with m in [1, 2), ln m = 2·atanh((m−1)/(m+1)).
func naturalLog(_ x: Double) -> Double {
    precondition(x > 0 && x.isFinite, "naturalLog needs a positive finite argument")
    let mantissa = x.significand
    let z = (mantissa - 1) / (mantissa + 1)
    let z2 = z * z
    var term = z, sum = 0.0, divisor = 1.0
    while true {
        let next = sum + term / divisor
        if next == sum { break }
        sum = next
        term *= z2
        divisor += 2
    }
    return 2 * sum + Double(x.exponent) * 0.693_147_180_559_945_3
}
