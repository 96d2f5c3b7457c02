import PodwallCore

/// Counters a `ScanDetector` keeps about itself.
public struct ScanStats: Sendable, Equatable {
    public var firstContacts = 0
    /// New flows to a (host, port) contacted within the memory horizon: retries and reuse, not judged again.
    public var repeatContacts = 0
    public var allowlistedFlows = 0
    /// TCP flows first seen mid-stream (not probes).
    public var nonProbeFlows = 0
    public var successes = 0
    public var failures = 0
    /// Failures decided by the reply timeout (a subset of `failures`).
    public var timeouts = 0
    public var evictedSources = 0
    public var evictedContacts = 0
    /// Pending probes dropped to respect `maxPendingProbes`.
    public var droppedProbes = 0
    /// Outcomes that arrived after their source was evicted.
    public var orphanedOutcomes = 0
}

/// Lateral-movement scan detection for pod-initiated TCP/UDP flows.
///
/// Per source (pod address + ifindex) it runs a Threshold Random Walk over *first contacts*
/// to (host, port, proto): repeats of a contacted target are ignored, so a client retrying
/// one service counts once. It also counts fan-out in a sliding window for scans whose probes
/// succeed: distinct ports per host (vertical) and distinct hosts per port (horizontal).
public struct ScanDetector: Sendable {
    public let config: ScanConfig
    public private(set) var stats = ScanStats()
    private let trw: TRWModel

    private var slotOf: [SourceKey: Int32] = [:]
    private var sources: [ScanSourceState] = []
    /// Sources are only ever replaced oldest-first, so slots are reused round-robin.
    private var nextEvictedSlot = 0

    private struct PendingProbe: Sendable {
        var slot: Int32
        var generation: UInt32
        var sequence: UInt64
        var startedNs: UInt64
    }

    private struct Deadline: Sendable {
        var key: FlowKey
        var startedNs: UInt64
    }

    /// First contacts waiting for a reply, and the same in arrival order for the timeout sweep.
    private var pending: [FlowKey: PendingProbe] = [:]
    private var deadlines = RingBuffer<Deadline>()

    public init(config: ScanConfig = ScanConfig()) {
        self.config = config
        self.trw = TRWModel(config)
    }

    public var trackedSources: Int { slotOf.count }
    public var pendingProbes: Int { pending.count }

    /// The TRW score of a source, for inspection and tests.
    public func score(of source: SourceKey) -> Double? {
        slotOf[source].map { sources[Int($0)].score }
    }

    public mutating func observe(_ event: FlowEvent, now: UInt64) -> [Alert] {
        let proto = event.key.proto
        guard proto == .tcp || proto == .udp else { return [] }
        if case .new = event.kind, event.flow.podInitiated {
            return firstPacket(event, now: now)
        }
        // Hot path: most events belong to flows whose probe was decided long ago.
        guard !pending.isEmpty, let index = pending.index(forKey: event.key),
            let outcome = ProbeOutcome(event)
        else { return [] }
        let probe = pending.values[index]
        pending.remove(at: index)
        return resolve(probe, outcome: outcome, decidingNs: event.timestamp, now: now)
    }

    /// Fails first contacts that got no reply within `replyTimeoutNs`.
    public mutating func tick(now: UInt64) -> [Alert] {
        var alerts: [Alert] = []
        while let deadline = deadlines.first, deadline.startedNs &+ config.replyTimeoutNs <= now {
            deadlines.removeFirst()
            guard let probe = takePending(deadline) else { continue }
            stats.timeouts += 1
            // The deciding packet of a timeout is the unanswered probe itself.
            alerts += resolve(probe, outcome: .failure, decidingNs: probe.startedNs, now: now)
        }
        return alerts
    }

    /// Forgets what the pods behind `ifindex` did (first contacts, walk,
    /// fan-out): their quarantine was released by hand, so what they do next
    /// is judged afresh (a re-scan of the same ports is a scan again), and
    /// their probes from before the release, still waiting for a reply or a
    /// timeout, no longer count. Returns how many sources were reset.
    @discardableResult
    public mutating func forget(ifindex: UInt32) -> Int {
        var reset = 0
        for (key, slot) in slotOf where key.ifindex == ifindex {
            sources[Int(slot)] = ScanSourceState(key: key, generation: sources[Int(slot)].generation &+ 1)
            reset += 1
        }
        return reset
    }

    // MARK: - First contacts

    private mutating func firstPacket(_ event: FlowEvent, now: UInt64) -> [Alert] {
        guard let style = ProbeStyle(firstPacketOf: event) else {
            stats.nonProbeFlows += 1
            return []
        }
        let source = event.key.source
        if config.allowlistedSources.anyContains(source.address) {
            stats.allowlistedFlows += 1
            return []
        }
        let slot = slotFor(source)
        let contact = ScanContact(
            host: event.key.remote, firstSeenNs: event.timestamp, port: event.key.remotePort,
            podPort: event.key.podPort, proto: event.key.proto, style: style)
        guard
            let recorded = sources[slot].record(
                contact, windowNs: config.fanoutWindowNs, memoryNs: config.contactMemoryNs, maxContacts: config.maxContactsPerSource)
        else {
            stats.repeatContacts += 1
            return []
        }
        stats.firstContacts += 1
        stats.evictedContacts += recorded.evicted

        var alerts: [Alert] = []
        if let trigger = fanoutTrigger(recorded) {
            alerts.append(
                makeAlert(
                    slot: slot, trigger: trigger, decidingNs: event.timestamp, now: now,
                    sinceNs: event.timestamp >= config.fanoutWindowNs ? event.timestamp - config.fanoutWindowNs : 0))
            sources[slot].resetWindow()
        }
        let probe = PendingProbe(
            slot: Int32(slot), generation: sources[slot].generation, sequence: recorded.sequence,
            startedNs: event.timestamp)
        if let outcome = ProbeOutcome(event) {
            alerts += resolve(probe, outcome: outcome, decidingNs: event.timestamp, now: now)
        } else {
            addPending(probe, key: event.key)
        }
        return alerts
    }

    private func fanoutTrigger(_ recorded: ScanSourceState.Recorded) -> ScanEvidence.Trigger? {
        if recorded.hostsOnPort >= config.horizontalHostThreshold { return .fanoutHorizontal }
        if recorded.portsOnHost >= config.verticalPortThreshold { return .fanoutVertical }
        return nil
    }

    private mutating func slotFor(_ source: SourceKey) -> Int {
        if let slot = slotOf[source] { return Int(slot) }
        if sources.count < max(config.maxSources, 1) {
            sources.append(ScanSourceState(key: source, generation: 0))
            slotOf[source] = Int32(sources.count - 1)
            return sources.count - 1
        }
        let slot = nextEvictedSlot
        nextEvictedSlot = (nextEvictedSlot + 1) % sources.count
        slotOf.removeValue(forKey: sources[slot].key)
        sources[slot] = ScanSourceState(key: source, generation: sources[slot].generation &+ 1)
        slotOf[source] = Int32(slot)
        stats.evictedSources += 1
        return slot
    }

    // MARK: - Pending probes

    private mutating func addPending(_ probe: PendingProbe, key: FlowKey) {
        pending[key] = probe
        deadlines.append(Deadline(key: key, startedNs: probe.startedNs))
        // Bound both tables even if tick() is never called: the oldest probes go first.
        while pending.count > config.maxPendingProbes || deadlines.count > 2 * max(config.maxPendingProbes, 1) {
            if takePending(deadlines.removeFirst()) != nil { stats.droppedProbes += 1 }
        }
    }

    /// Removes and returns the probe `deadline` was queued for, if it is still undecided.
    private mutating func takePending(_ deadline: Deadline) -> PendingProbe? {
        guard let index = pending.index(forKey: deadline.key),
            pending.values[index].startedNs == deadline.startedNs
        else { return nil }
        let probe = pending.values[index]
        pending.remove(at: index)
        return probe
    }

    // MARK: - The walk

    private mutating func resolve(_ probe: PendingProbe, outcome: ProbeOutcome, decidingNs: UInt64, now: UInt64) -> [Alert] {
        let slot = Int(probe.slot)
        guard slot < sources.count, sources[slot].generation == probe.generation else {
            stats.orphanedOutcomes += 1
            return []
        }
        sources[slot].setOutcome(outcome, sequence: probe.sequence)
        if outcome == .success {
            stats.successes += 1
            sources[slot].score += trw.successStep
            if sources[slot].score <= trw.lowerThreshold { sources[slot].restartWalk() }
            return []
        }
        stats.failures += 1
        sources[slot].score += trw.failureStep
        guard sources[slot].score >= trw.upperThreshold else { return [] }
        let alert = makeAlert(
            slot: slot, trigger: .trw, decidingNs: decidingNs, now: now,
            sinceNs: sources[slot].walkStartNs ?? probe.startedNs)
        // Start over so a scan that goes on raises a new (deduplicated) alert every few failures.
        sources[slot].restartWalk()
        return [alert]
    }

    // MARK: - Alerts

    private func makeAlert(slot: Int, trigger: ScanEvidence.Trigger, decidingNs: UInt64, now: UInt64, sinceNs: UInt64) -> Alert {
        let state = sources[slot]
        let summary = state.summarize(sinceNs: sinceNs)
        let decided = summary.failures + summary.successes
        let scanType: ScanEvidence.ScanType =
            switch trigger {
            case .fanoutHorizontal: .horizontal
            case .fanoutVertical: .vertical
            case .trw, .flowSummary: summary.hosts <= 1 ? .vertical : (summary.ports <= 1 ? .horizontal : .mixed)
            }
        let stealthy = summary.tcpStyles.contains { $0 != .syn }
        let evidence = ScanEvidence(
            trigger: trigger,
            scanType: scanType,
            protocolName: summary.sawTCP && summary.sawUDP ? "tcp+udp" : (summary.sawUDP ? "udp" : "tcp"),
            probedHosts: summary.hosts,
            probedPorts: summary.ports,
            failures: summary.failures,
            successes: summary.successes,
            unanswered: summary.unanswered,
            failureRatio: decided == 0 ? 0 : Double(summary.failures) / Double(decided),
            firstProbeNs: summary.firstNs,
            lastProbeNs: summary.lastNs,
            trwScore: state.score,
            tcpProbeStyles: summary.tcpStyles.map(\.name))
        let wide = summary.hosts >= 4 * config.horizontalHostThreshold || summary.ports >= 100
        return Alert(
            kind: .portScan,
            severity: stealthy || wide ? .high : .medium,
            source: AlertSource(state.key),
            flows: summary.flows,
            evidence: .portScan(evidence),
            decidingNs: decidingNs,
            now: now)
    }

    public var memory: MemoryEstimate {
        var sourceBytes = tableBytes(slotOf) + sources.capacity * MemoryLayout<ScanSourceState>.stride
        for source in sources { sourceBytes += source.approximateBytes }
        return MemoryEstimate(
            flowBytes: tableBytes(pending) + deadlines.capacity * MemoryLayout<Deadline>.stride,
            sourceBytes: sourceBytes,
            trackedFlows: pending.count,
            trackedSources: slotOf.count)
    }
}
