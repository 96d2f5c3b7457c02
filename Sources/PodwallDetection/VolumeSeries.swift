import PodwallCore

/// One egress series (a pod, or a pod towards one remote) cut into fixed intervals,
/// with an EWMA baseline of past intervals.
struct VolumeSeries: Sendable {
    var baseline = EWMABaseline()
    /// The open interval: index (timestamp / interval length) and bytes so far.
    private(set) var intervalIndex: UInt64
    private(set) var bytes: UInt64 = 0
    /// Already alerted in the open interval.
    private var alarmed = false
    /// The same egress on a grid shifted by half an interval: a burst that
    /// straddles a boundary of one grid lies (mostly) inside an interval of the
    /// other, so it is not split into two halves each under the threshold.
    /// Only the aligned grid feeds the baseline.
    private var shiftedIndex: UInt64 = 0
    private var shiftedBytes: UInt64 = 0
    private var shiftedAlarmed = false
    /// The window that last crossed the threshold (an alert's evidence).
    private(set) var crossing = (startNs: UInt64(0), bytes: UInt64(0))
    /// The remote that received the most bytes in the open interval (pod series only).
    private(set) var topRemote: IPAddress?
    private var topRemoteBytes: UInt64 = 0

    init(intervalIndex: UInt64) {
        self.intervalIndex = intervalIndex
    }

    func threshold(_ config: ExfiltrationConfig) -> Double {
        baseline.threshold(k: config.k, minRelativeSigma: config.minRelativeSigma, floor: Double(config.floorBytes))
    }

    func isWarm(_ config: ExfiltrationConfig) -> Bool {
        baseline.observations >= config.warmupIntervals
    }

    /// Closes every interval before `index` into the baseline; skipped intervals count as zero.
    mutating func advance(to index: UInt64, config: ExfiltrationConfig) {
        guard index > intervalIndex else { return }
        close(Double(bytes), config: config)
        // After 64 idle intervals at λ = 0.25 the mean is ~1e-8 of what it was: stop there.
        for _ in 0..<min(index - intervalIndex - 1, 64) { close(0, config: config) }
        intervalIndex = index
        bytes = 0
        alarmed = false
        topRemote = nil
        topRemoteBytes = 0
    }

    mutating func noteRemote(_ remote: IPAddress, bytes remoteBytes: UInt64) {
        if remoteBytes > topRemoteBytes {
            topRemote = remote
            topRemoteBytes = remoteBytes
        }
    }

    /// Adds to the open interval at `time`; true when this pushed a window of
    /// either grid over the threshold (at most once per window, and a crossing
    /// marks both grids' open windows, so one burst makes one alert; the alert
    /// comes with the crossing sample, not at the end).
    mutating func add(_ delta: UInt64, at time: UInt64, config: ExfiltrationConfig) -> Bool {
        bytes &+= delta
        let length = max(config.intervalNs, 1), half = length / 2
        if (time &+ half) / length != shiftedIndex {
            shiftedIndex = (time &+ half) / length
            shiftedBytes = 0
            shiftedAlarmed = false
        }
        shiftedBytes &+= delta
        guard isWarm(config) else { return false }
        let limit = threshold(config)
        if !alarmed, Double(bytes) > limit {
            crossing = (intervalIndex &* length, bytes)
        } else if !shiftedAlarmed, Double(shiftedBytes) > limit {
            crossing = ((shiftedIndex &* length) &- min(half, shiftedIndex &* length), shiftedBytes)
        } else {
            return false
        }
        alarmed = true
        shiftedAlarmed = true
        return true
    }

    private mutating func close(_ value: Double, config: ExfiltrationConfig) {
        // Learn from what was seen, but clamp an alarmed interval to the threshold so a spike
        // (or a sustained exfiltration) cannot drag the baseline up and hide itself.
        let limit = threshold(config)
        baseline.update(isWarm(config) && value > limit ? limit : value, lambda: config.lambda)
    }
}
