import PodwallCore

/// Counters an `ExfiltrationDetector` keeps about itself.
public struct ExfiltrationStats: Sendable, Equatable {
    public var samples = 0
    /// Samples to cluster-internal destinations (ignored).
    public var clusterSamples = 0
    public var counterRestarts = 0
    /// Samples not accounted because a table was full.
    public var untrackedFlows = 0
    public var untrackedPods = 0
    public var untrackedPairs = 0
    public var forgottenFlows = 0
    public var forgottenPairs = 0
    public var forgottenPods = 0
}

/// Egress volume spikes per pod and per (pod, remote), for remotes outside the cluster.
///
/// Cumulative per-flow counters become deltas, summed per interval into an EWMA baseline; an
/// interval (of the aligned grid, or of one shifted by half an interval, so a burst across a
/// boundary is not split in two) alerts when it exceeds that baseline by k·σ and the absolute
/// floor, after warm-up.
public struct ExfiltrationDetector: Sendable {
    public let config: ExfiltrationConfig
    public private(set) var stats = ExfiltrationStats()

    private struct FlowCounter: Sendable {
        var lastBytes: UInt64
        var lastSeenNs: UInt64
        /// Which connection on these ports the bytes are of.
        var firstSeenNs: UInt64
    }

    private struct PairKey: Hashable, Sendable {
        var source: SourceKey
        var remote: IPAddress
    }

    private var flows: [FlowKey: FlowCounter] = [:]
    private var pods: [SourceKey: VolumeSeries] = [:]
    private var pairs: [PairKey: VolumeSeries] = [:]
    private var lastSweepNs: UInt64 = 0
    /// Flows that ended, by their first-seen time, kept for one to two
    /// `endedGenerationNs`: a read of the flow table taken before a flow's end
    /// but judged after it must not count the flow again from zero.
    private var ended: [FlowKey: UInt64] = [:]
    private var endedBefore: [FlowKey: UInt64] = [:]
    private var endedRotatedNs: UInt64 = 0
    /// Far longer than a table read can wait to be judged.
    static let endedGenerationNs: UInt64 = 10_000_000_000

    public init(config: ExfiltrationConfig = ExfiltrationConfig()) {
        self.config = config
    }

    public var trackedFlows: Int { flows.count }
    public var trackedPods: Int { pods.count }
    public var trackedPairs: Int { pairs.count }

    /// The baseline of a pod's non-cluster egress, for inspection and tests.
    public func baseline(of source: SourceKey) -> EWMABaseline? {
        pods[source]?.baseline
    }

    public mutating func observe(_ sample: FlowSample, now: UInt64) -> [Alert] {
        stats.samples += 1
        let key = sample.key
        if config.clusterCIDRs.anyContains(key.remote) {
            stats.clusterSamples += 1
            return []
        }
        let delta = egressDelta(sample)
        guard delta > 0 else { return [] }
        var alerts: [Alert] = []

        let pair = Self.add(
            delta, at: sample.timestampNs, key: PairKey(source: key.source, remote: key.remote),
            in: &pairs, limit: config.maxPairs, config: config)
        if let pair {
            if pair.crossed {
                alerts.append(makeAlert(pair.series, scope: .podRemote, destination: key.remote, sample: sample, now: now))
            }
        } else {
            stats.untrackedPairs += 1
        }
        let pod = Self.add(
            delta, at: sample.timestampNs, key: key.source, in: &pods, limit: config.maxPods, config: config,
            remote: key.remote, remoteBytes: pair?.series.bytes ?? delta)
        if let pod {
            if pod.crossed {
                alerts.append(makeAlert(pod.series, scope: .pod, destination: pod.series.topRemote, sample: sample, now: now))
            }
        } else {
            stats.untrackedPods += 1
        }
        return alerts
    }

    /// Forgets a flow's counter when it ends (its final sample comes before the end).
    public mutating func observe(_ event: FlowEvent, now: UInt64) -> [Alert] {
        if case .end = event.kind, !flows.isEmpty, flows.removeValue(forKey: event.key) != nil {
            ended[event.key] = event.flow.firstSeen
        }
        return []
    }

    /// Sweeps idle flow counters and pair series; decisions are made as samples arrive.
    public mutating func tick(now: UInt64) -> [Alert] {
        if now >= endedRotatedNs &+ Self.endedGenerationNs {
            swap(&ended, &endedBefore)
            ended.removeAll(keepingCapacity: true)
            endedRotatedNs = now
        }
        guard now >= lastSweepNs &+ config.sweepEveryNs else { return [] }
        lastSweepNs = now
        let flowCount = flows.count, pairCount = pairs.count, podCount = pods.count
        Self.sweep(&flows) { $0.lastSeenNs &+ config.flowIdleNs > now }
        let currentIndex = now / max(config.intervalNs, 1)
        Self.sweep(&pairs) { $0.intervalIndex &+ config.pairIdleIntervals > currentIndex }
        Self.sweep(&pods) { $0.intervalIndex &+ config.podIdleIntervals > currentIndex }
        stats.forgottenFlows += flowCount - flows.count
        stats.forgottenPairs += pairCount - pairs.count
        stats.forgottenPods += podCount - pods.count
        return []
    }

    /// Keeps the entries that pass `keep`, rebuilding the table only when something goes.
    private static func sweep<Key, Value>(_ table: inout [Key: Value], keep: (Value) -> Bool) {
        guard table.values.contains(where: { !keep($0) }) else { return }
        table = table.filter { keep($0.value) }
    }

    /// Bytes sent since the flow's previous sample. The samples of one
    /// connection may come out of order (a table read races the kernel's volume
    /// events: read after an event, judged before it), so only a higher count
    /// adds; a later connection on the same ports (first seen later) restarts
    /// the count.
    private mutating func egressDelta(_ sample: FlowSample) -> UInt64 {
        let counter = FlowCounter(
            lastBytes: sample.bytesFromPod, lastSeenNs: sample.timestampNs, firstSeenNs: sample.firstSeenNs)
        if let index = flows.index(forKey: sample.key) {
            let last = flows.values[index]
            if sample.firstSeenNs == last.firstSeenNs {
                // Seen even when silent: an idle-swept counter would count whole again.
                flows.values[index].lastSeenNs = max(last.lastSeenNs, sample.timestampNs)
                guard sample.bytesFromPod > last.lastBytes else { return 0 }
                flows.values[index].lastBytes = sample.bytesFromPod
                return sample.bytesFromPod - last.lastBytes
            }
            guard sample.firstSeenNs > last.firstSeenNs else { return 0 }  // an earlier connection's late read
            flows.values[index] = counter
            stats.counterRestarts += 1
            return sample.bytesFromPod
        }
        if let end = ended[sample.key] ?? endedBefore[sample.key], sample.firstSeenNs <= end {
            return 0  // the ended connection, counted at its end, read before it
        }
        guard flows.count < config.maxFlows else {
            stats.untrackedFlows += 1
            return 0
        }
        // A flow's first sample counts whole (the kernel counts from the
        // flow's start), unless the flow began before the detector looked.
        flows[sample.key] = counter
        return sample.predatesObservation ? 0 : sample.bytesFromPod
    }

    /// Adds `delta` to the series at `key` (created if there is room); the series afterwards
    /// and whether it just crossed its threshold, or nil when the table is full.
    private static func add<Key: Hashable>(
        _ delta: UInt64, at time: UInt64, key: Key, in table: inout [Key: VolumeSeries], limit: Int,
        config: ExfiltrationConfig, remote: IPAddress? = nil, remoteBytes: UInt64 = 0
    ) -> (series: VolumeSeries, crossed: Bool)? {
        var slot = table.index(forKey: key)
        if slot == nil {
            guard table.count < limit else { return nil }
            table[key] = VolumeSeries(intervalIndex: time / max(config.intervalNs, 1))
            slot = table.index(forKey: key)
        }
        guard let slot else { return nil }
        let index = time / max(config.intervalNs, 1)
        table.values[slot].advance(to: index, config: config)
        if let remote { table.values[slot].noteRemote(remote, bytes: remoteBytes) }
        let crossed = table.values[slot].add(delta, at: time, config: config)
        return (table.values[slot], crossed)
    }

    private func makeAlert(
        _ series: VolumeSeries, scope: ExfiltrationEvidence.Scope, destination: IPAddress?,
        sample: FlowSample, now: UInt64
    ) -> Alert {
        let threshold = series.threshold(config)
        let evidence = ExfiltrationEvidence(
            scope: scope,
            bytesInInterval: series.crossing.bytes,
            baselineMean: series.baseline.mean,
            sigma: series.baseline.sigma,
            k: config.k,
            floorBytes: config.floorBytes,
            thresholdBytes: threshold,
            destination: destination,
            intervalStartNs: series.crossing.startNs,
            intervalSeconds: Double(config.intervalNs) / 1e9,
            intervalsObserved: series.baseline.observations)
        return Alert(
            kind: .exfiltration,
            severity: Double(series.bytes) >= 10 * threshold ? .critical : .high,
            source: AlertSource(sample.key.source),
            flows: [sample.key],
            evidence: .exfiltration(evidence),
            decidingNs: sample.timestampNs,
            now: now)
    }

    public var memory: MemoryEstimate {
        MemoryEstimate(
            flowBytes: tableBytes(flows), sourceBytes: tableBytes(pods) + tableBytes(pairs),
            trackedFlows: flows.count, trackedSources: pods.count + pairs.count)
    }
}
