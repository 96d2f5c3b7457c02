import PodwallCore

/// Settings for the whole detection pipeline.
public struct AggregatorConfig: Sendable, Equatable {
    public var scan = ScanConfig()
    public var exfiltration = ExfiltrationConfig()
    public var protocolMismatch = ProtocolMismatchConfig()
    public var flood = FloodDetector.Config()
    public var dedupWindowNs: UInt64 = 60_000_000_000
    /// At most one update line per alert this often (`alerts.update_interval`).
    public var updateIntervalNs: UInt64 = 10_000_000_000
    public var policy = ResponsePolicy()
    /// Program names the process detector judges.
    public var processRules = ProcessRules()
    /// The per-workload process baseline (its window is the file baseline's too).
    public var processBaseline = ProcessBaseline.Config()
    /// Paths the file detector watches.
    public var fileRules = FileRules()

    public init() {}
}

public struct AggregatorStats: Sendable, Equatable {
    public var flowEvents = 0
    public var samples = 0
    public var drops = 0
    public var execs = 0
    /// Flow summaries of pods past their event budget.
    public var summaries = 0
    /// Alerts reported as the first of their window.
    public var alerts = 0
    /// Update lines of earlier alerts (each carries the repeats since the alert's previous line).
    public var updates = 0
}

/// Wires the detectors together: every input goes to the detectors that want it, raised
/// alerts are enriched, deduplicated and given their response actions. Single-threaded and
/// deterministic: the same inputs and `now`s give the same alerts.
public struct Aggregator: Sendable {
    public private(set) var config: AggregatorConfig
    public private(set) var scan: ScanDetector
    public private(set) var exfiltration: ExfiltrationDetector
    public private(set) var protocolMismatch: ProtocolMismatchDetector
    public private(set) var blocklist = BlocklistDetector()
    public private(set) var process: ProcessDetector
    public private(set) var file: FileDetector
    public private(set) var flood: FloodDetector
    public private(set) var deduplicator: AlertDeduplicator
    public private(set) var stats = AggregatorStats()
    /// Whether a response taken earlier is still in force (the caller asks the kernel); one that
    /// was released by hand is taken again when its alert's behaviour goes on. nil: always.
    public var responseInForce: (@Sendable (ResponseAction) -> Bool)?

    public init(config: AggregatorConfig = AggregatorConfig()) {
        self.config = config
        scan = ScanDetector(config: config.scan)
        exfiltration = ExfiltrationDetector(config: config.exfiltration)
        protocolMismatch = ProtocolMismatchDetector(config: config.protocolMismatch)
        process = ProcessDetector(rules: config.processRules, baseline: config.processBaseline)
        file = FileDetector(rules: config.fileRules, learningNs: config.processBaseline.learningNs)
        flood = FloodDetector(config: config.flood)
        deduplicator = AlertDeduplicator(windowNs: config.dedupWindowNs, updateIntervalNs: config.updateIntervalNs)
    }

    /// The event alone; see `observe(_:now:observedSince:)` for flows that are also sampled.
    public mutating func observe(_ event: FlowEvent, now: UInt64) -> [Alert] {
        stats.flowEvents &+= 1
        guard event.kind != .volume else { return [] }  // for sampling only
        var raised = scan.observe(event, now: now)
        let mismatches = protocolMismatch.observe(event, now: now)
        if !mismatches.isEmpty { raised += mismatches }
        _ = exfiltration.observe(event, now: now)
        return raised.isEmpty ? raised : report(raised)
    }

    /// A flow event from the kernel or a replay, whose flows are sampled (`sample`): a volume
    /// event is a sample of its own, as the bytes go; an end comes after a last volume sample
    /// of the flow, so that no byte is lost and the detector may forget the flow; closed flows
    /// are then no longer sampled. Flows first seen (kernel clock) before `observedSince`
    /// predate observation.
    public mutating func observe(_ event: FlowEvent, now: UInt64, observedSince: UInt64) -> [Alert] {
        var alerts: [Alert] = []
        if event.kind == .volume {
            stats.flowEvents &+= 1
            return observe(FlowSample(event.flow, at: event.timestamp, observedSince: observedSince), now: now)
        }
        if case .end = event.kind, event.flow.podInitiated {
            alerts += observe(FlowSample(event.flow, at: event.timestamp, observedSince: observedSince), now: now)
        }
        return alerts + observe(event, now: now)
    }

    /// Volume samples of the flows still open that the pod opened.
    public mutating func sample(_ flows: [FlowRecord], at time: UInt64, now: UInt64, observedSince: UInt64 = 0) -> [Alert] {
        flows.filter { $0.podInitiated && !$0.closed }.flatMap {
            observe(FlowSample($0, at: time, observedSince: observedSince), now: now)
        }
    }

    public mutating func observe(_ sample: FlowSample, now: UInt64) -> [Alert] {
        stats.samples &+= 1
        let raised = exfiltration.observe(sample, now: now)
        return raised.isEmpty ? raised : report(raised)
    }

    public mutating func observe(_ drop: DropEvent, now: UInt64) -> [Alert] {
        stats.drops &+= 1
        return report(blocklist.observe(drop, now: now))
    }

    /// A program a pod started; `source` names the pod and the process.
    public mutating func observe(_ exec: ExecRecord, source: AlertSource, now: UInt64) -> [Alert] {
        stats.execs &+= 1
        let raised = process.observe(exec, source: source, now: now) + (file.observe(exec, source: source, now: now).map { [$0] } ?? [])
        return raised.isEmpty ? [] : report(raised)
    }

    /// A pod's process wrote or read a watched path.
    public mutating func observe(_ event: FileEvent, source: AlertSource, now: UInt64) -> [Alert] {
        file.observe(event, source: source, now: now).map { report([$0]) } ?? []
    }

    /// A pod's process tried to reach out of its container.
    public mutating func observe(_ attempt: BreakoutAttempt, source: AlertSource, now: UInt64) -> [Alert] {
        report([file.observe(attempt, source: source, now: now)])
    }

    /// A running shell redirected its stdio to a socket.
    public mutating func observe(_ redirect: StdioRedirect, source: AlertSource, now: UInt64) -> [Alert] {
        report(process.observe(redirect, source: source, now: now))
    }

    /// A connect() of a pod's process (the relay of a shell, maybe).
    public mutating func observe(_ connection: ProcessConnection, now: UInt64) -> [Alert] {
        let raised = process.observe(connection, now: now)
        return raised.isEmpty ? [] : report(raised)
    }

    /// A pod's new flows past its event budget, as the kernel counted them.
    public mutating func observe(_ summary: FlowSummary, source: AlertSource, now: UInt64) -> [Alert] {
        stats.summaries &+= 1
        var raised = flood.observe(summary, source: source, now: now)
        // A source never judged as a scanner is not one in a summary either (its flood still is).
        if config.scan.allowlistedSources.anyContains(source.address) { raised.removeAll { $0.kind == .portScan } }
        return raised.isEmpty ? [] : report(raised)
    }

    /// The kernel's connect program judges pipe relays (the agent attached it).
    public mutating func awaitKernelRelayDecisions() { process.awaitKernelRelayDecisions() }

    /// The kernel took a process for a shell's relay at its connect.
    public mutating func observe(_ relay: RelayConnect, now: UInt64) -> [Alert] {
        let raised = process.observe(relay, now: now)
        return raised.isEmpty ? [] : report(raised)
    }

    /// Time-driven decisions (reply timeouts) and housekeeping; call about once a second.
    public mutating func tick(now: UInt64) -> [Alert] {
        var raised = scan.tick(now: now)
        raised += exfiltration.tick(now: now)
        raised += protocolMismatch.tick(now: now)
        raised += blocklist.tick(now: now)
        raised += process.tick(now: now)
        let reports = raised.isEmpty ? raised : report(raised)
        let updates = deduplicator.flush(now: now)
        stats.updates += updates.count
        return reports + updates
    }

    private mutating func report(_ raised: [Alert]) -> [Alert] {
        var reports: [Alert] = []
        reports.reserveCapacity(raised.count)
        for var occurrence in raised {
            var report = deduplicator.submit(occurrence)
            // Actions are derived from this occurrence (its destination may be new) under the
            // window's id, and only what was not yet requested in the window is passed on.
            occurrence.id = report.id
            report.actions = deduplicator.claim(
                config.policy.actions(for: occurrence), for: report,
                inForce: responseInForce ?? { _ in true })
            guard let report = deduplicator.release(report) else { continue }  // folded in, for a later line
            if report.isUpdate { stats.updates += 1 } else { stats.alerts += 1 }
            reports.append(report)
        }
        return reports
    }

    /// Rough memory held by all detector tables.
    /// A quarantine released by hand (`podwall quarantine release`): the
    /// pod's scanning is judged afresh from now on.
    public mutating func quarantineReleased(ifindex: UInt32) {
        scan.forget(ifindex: ifindex)
    }

    /// A new response policy (a config reload); detector state is kept.
    /// A configuration reload: what was learned stays.
    public mutating func update(
        policy: ResponsePolicy, processRules: ProcessRules? = nil, processBaseline: ProcessBaseline.Config? = nil,
        fileRules: FileRules? = nil
    ) {
        config.policy = policy
        if let fileRules {
            config.fileRules = fileRules
            file.rules = fileRules
        }
        if let processRules {
            config.processRules = processRules
            process.rules = processRules
        }
        if let processBaseline {
            config.processBaseline = processBaseline
            process.baseline.config = processBaseline
            file.learningNs = processBaseline.learningNs
        }
    }

    public var memory: MemoryEstimate {
        scan.memory + exfiltration.memory + protocolMismatch.memory
            + MemoryEstimate(sourceBytes: deduplicator.approximateBytes)
    }
}
