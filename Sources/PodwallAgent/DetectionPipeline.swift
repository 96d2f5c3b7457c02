import Foundation
import Logging
import PodwallCore
import PodwallDetection
import PodwallCapture
import PodwallKernel
import Synchronization

/// Kernel events → the pure-Swift detectors → alerts (JSON lines) and the
/// responses the policy asks for, carried out on the kernel's maps.
///
/// Times: the kernel stamps CLOCK_MONOTONIC, and the detectors run on that
/// clock too (`now` is read on it), which keeps `detection_latency_ms` exact
/// and their windows unmoved by wall-clock steps. Alerts want Unix time: each
/// is converted when published, with an offset kept current (`WallClock`),
/// so alerts line up with other logs after an NTP step or a VM pause.
final class DetectionPipeline: Sendable {
    private let datapath: Datapath
    private let output: AlertOutput
    private let captures: CaptureManager?
    private let alertLog: AlertLog?
    private let podNames: (@Sendable (UInt32) -> String?)?
    /// Where a process the cgroup hooks refused sits (nil: hooks not attached).
    private let processLocator: ProcessLocator?
    /// Adds the process cache's view (exec id, binary, arguments, ancestors)
    /// of the program the process ran at a time to a process an alert names.
    private let describeProcess: (@Sendable (inout AlertProcess, UInt64) -> Void)?
    private let metrics: AgentMetrics?
    private let logger: Logger
    /// Kernel time the pipeline started: flows older than this were running
    /// before (an adopted flow table) and count their bytes from the first sample.
    private let startedNs = MonotonicClock.now()
    private let state: Mutex<State>

    /// What the event, tick and sample paths, the API and config reloads
    /// share; each holds the lock only for its own step.
    private struct State {
        var aggregator: Aggregator
        var captureSettings: AlertCaptureSettings
        var clock = WallClock(now: MonotonicClock.now(), readOffset: MonotonicClock.wallClockOffset)
        /// Host-side interface names by ifindex, kept by the attach loop.
        var interfaces: [UInt32: String] = [:]
        /// Each pod's address, as its newest flow had it: names the pod in a
        /// flood alert (the kernel's summary carries only the interface).
        var podAddresses: [UInt32: IPAddress] = [:]
        /// Who connected each pod to each destination: names the process in network alerts.
        var owners = ConnectionOwners()
        var written = 0
        var taken = 0

        /// A flow event to the detectors; a new flow tells its pod's address.
        mutating func observe(_ flow: FlowEvent, now: UInt64, observedSince: UInt64) -> [Alert] {
            if flow.kind == .new { podAddresses[flow.key.ifindex] = flow.key.pod }
            return aggregator.observe(flow, now: now, observedSince: observedSince)
        }
    }

    /// For the agent's stats line.
    var alertsWritten: Int { state.withLock { $0.written } }
    var actionsTaken: Int { state.withLock { $0.taken } }

    init(
        config: AggregatorConfig, datapath: Datapath, output: AlertOutput, captures: CaptureManager?,
        captureSettings: AlertCaptureSettings = AlertCaptureSettings(), alertLog: AlertLog? = nil, metrics: AgentMetrics? = nil,
        podNames: (@Sendable (UInt32) -> String?)? = nil, processLocator: ProcessLocator? = nil,
        describeProcess: (@Sendable (inout AlertProcess, UInt64) -> Void)? = nil, logger: Logger
    ) {
        self.describeProcess = describeProcess
        self.alertLog = alertLog
        self.metrics = metrics
        var aggregator = Aggregator(config: config)
        aggregator.responseInForce = { [datapath] in Self.inForce($0, datapath: datapath) }
        state = Mutex(State(aggregator: aggregator, captureSettings: captureSettings))
        self.datapath = datapath
        self.output = output
        self.captures = captures
        self.podNames = podNames
        self.processLocator = processLocator
        self.logger = logger
    }

    private var now: UInt64 { MonotonicClock.now() }

    /// A config reload: new responses and capture settings; detector state stays.
    func reconfigure(
        policy: ResponsePolicy, processRules: ProcessRules, processBaseline: ProcessBaseline.Config, fileRules: FileRules,
        capture: AlertCaptureSettings
    ) {
        state.withLock {
            $0.aggregator.update(policy: policy, processRules: processRules, processBaseline: processBaseline, fileRules: fileRules)
            $0.captureSettings = capture
        }
    }

    /// An operator released this pod's quarantine through the API.
    func quarantineReleased(ifindex: UInt32) {
        state.withLock { $0.aggregator.quarantineReleased(ifindex: ifindex) }
    }

    /// `name` nil: the interface went away.
    func interfaceAttached(_ ifindex: UInt32, name: String?) {
        state.withLock {
            $0.interfaces[ifindex] = name
            if name == nil { $0.podAddresses[ifindex] = nil }
        }
    }

    /// A batch of the ring's events, in order. Flow events, nearly all of
    /// them, are judged a run at a time under one lock and at one `now`
    /// (read after the kernel wrote them all; the clock was 5 % of the
    /// agent's time when read per event) until one raises an alert; the
    /// others each on their own, as they may read /proc first.
    func handle(_ events: [KernelEvent]) {
        var next = events.startIndex
        while next < events.endIndex {
            let alerts = state.withLock { state in
                let at = now
                var alerts: [Alert] = []
                // Out at the first alert: its response must not wait for the
                // rest of the batch (thousands of events in a scan, 10-20 ms).
                while alerts.isEmpty, next < events.endIndex, case .flow(let flow) = events[next] {
                    alerts += state.observe(flow, now: at, observedSince: startedNs)
                    next += 1
                }
                return alerts
            }
            publish(alerts)
            if alerts.isEmpty, next < events.endIndex {  // not a flow event
                handle(events[next])
                next += 1
            }
        }
    }

    private func handle(_ event: KernelEvent) {
        let alerts: [Alert]
        switch event {
        case .flow(let flow):
            alerts = state.withLock { $0.observe(flow, now: now, observedSince: startedNs) }
        case .drop(let drop):
            // Located before taking the lock: it reads /proc and cgroupfs.
            let location = drop.process.flatMap { process in
                processLocator?.locate(tgid: process.tgid, cgroupID: process.cgroupID, family: drop.key.remote.family)
            }
            let input = DetectionInput.dropEvent(drop, locatedAt: location)
            alerts = state.withLock { $0.aggregator.observe(input, now: now) }
        case .connect(let connection):
            record(connection)
            alerts = state.withLock { $0.aggregator.observe(connection, now: now) }
        case .summary(let summary):
            // The summary names only the interface: the pod's address is its flows'
            // (its first new flows, within the event budget, came as events); its
            // name is added as every alert's is, when published.
            metrics?.flowsSummarized(ifindex: summary.ifindex, count: summary.newFlows)
            alerts = state.withLock { state in
                let address = state.podAddresses[summary.ifindex] ?? IPAddress(high: 0, low: 0)
                let source = AlertSource(address: address, ifindex: summary.ifindex)
                return state.aggregator.observe(summary, source: source, now: now)
            }
        }
        publish(alerts)
    }

    /// A program a pod started; `source` names its pod and process.
    func handle(_ exec: ExecRecord, source: AlertSource) {
        let source = named(source)
        publish(state.withLock { $0.aggregator.observe(exec, source: source, now: now) })
    }

    /// A pod's process wrote or read a watched path.
    func handle(_ event: FileEvent, source: AlertSource) {
        let source = named(source)
        publish(state.withLock { $0.aggregator.observe(event, source: source, now: now) })
    }

    /// A pod's process tried to reach out of its container.
    func handle(_ attempt: BreakoutAttempt, source: AlertSource) {
        let source = named(source)
        publish(state.withLock { $0.aggregator.observe(attempt, source: source, now: now) })
    }

    /// The source with its pod's name, before judging: baselines are learned per workload.
    private func named(_ source: AlertSource) -> AlertSource {
        var source = source
        source.podName = source.podName ?? podNames?(source.ifindex) ?? source.process?.cgroupPath.map(ProcessLocator.name(ofCgroup:))
        return source
    }

    /// A running shell of a pod redirected its stdio to a socket.
    func handle(_ redirect: StdioRedirect, source: AlertSource) {
        publish(state.withLock { $0.aggregator.observe(redirect, source: source, now: now) })
    }

    /// The kernel's connect program judges pipe relays.
    func awaitKernelRelayDecisions() {
        state.withLock { $0.aggregator.awaitKernelRelayDecisions() }
    }

    /// The kernel took a pod's process for a shell's relay at its connect.
    func handle(_ relay: RelayConnect) {
        publish(state.withLock { $0.aggregator.observe(relay, now: now) })
    }

    /// Keeps who connected where, keyed by the pod's interface as flows are.
    private func record(_ connection: ProcessConnection) {
        // Located outside the lock: it may read /proc.
        guard
            let ifindex = processLocator?.locateRemembering(
                tgid: connection.pid, cgroupID: connection.cgroupID, family: connection.remote.family
            ).ifindex
        else { return }
        state.withLock { $0.owners.record(connection, ifindex: ifindex) }
    }

    /// The process behind a network alert: the one that connected its first
    /// flow (raw-socket probes, as nmap -sS sends, have none).
    private func owner(of alert: Alert) -> AlertProcess? {
        alert.flows.first.flatMap { process(connecting: $0, at: now) }
    }

    /// The process whose connect() opened a flow of the table: none for a
    /// flow the pod did not open. Timed by the flow's first packet, so a
    /// long-lived connection keeps its process.
    func process(opening flow: FlowRecord) -> AlertProcess? {
        flow.podInitiated ? process(connecting: flow.key, at: flow.firstSeen) : nil
    }

    /// The process that last connected the flow's pod to its remote end, if
    /// that was recent at `atNs`, as the process cache knew its program then.
    private func process(connecting flow: FlowKey, at atNs: UInt64) -> AlertProcess? {
        guard let owner = state.withLock({ $0.owners.owner(of: flow, at: atNs) }) else { return nil }
        var process = AlertProcess(
            pid: owner.pid, tgid: owner.pid, uid: owner.uid, comm: owner.comm, cgroupId: owner.cgroupID,
            cgroupPath: processLocator?.cgroupPath(ofID: owner.cgroupID))
        describeProcess?(&process, owner.timestampNs)
        return process
    }

    /// Time-driven decisions (probes that got no answer, interval ends).
    func tick() {
        publish(state.withLock { $0.aggregator.tick(now: now) })
    }

    /// Volume samples for the exfiltration detector: cumulative bytes each
    /// pod sent on each flow, read from the flow table; stamped when the read
    /// began (no record is older). Volume events judged meanwhile may be
    /// older or newer: the detector orders a flow's samples by their count.
    func sample(_ flows: FlowSnapshot) {
        let alerts: [Alert] = state.withLock {
            $0.aggregator.sample(flows.records, at: flows.takenNs, now: now, observedSince: startedNs)
        }
        publish(alerts)
    }

    private func publish(_ alerts: [Alert]) {
        for var alert in alerts {
            // An update's decision is its newest occurrence.
            let decidedNs = alert.isUpdate ? alert.lastSeenNs : alert.timeNs
            state.withLock { state in
                let at = now
                alert.mapTimes { state.clock.unixNanoseconds($0, now: at) }
            }
            alert.source.interface = state.withLock { $0.interfaces[alert.source.ifindex] }
            if alert.source.process == nil, let process = owner(of: alert) {
                alert.source.process = process
                alert.source.cgroupId = alert.source.cgroupId ?? process.cgroupId
            }
            alert.source.podName =
                alert.source.podName ?? podNames?(alert.source.ifindex)
                ?? alert.source.process?.cgroupPath.map(ProcessLocator.name(ofCgroup:))
            // An update's actions are only those new in its window (a second
            // destination to block, a released response re-applied): carried
            // out like a first alert's, and timed from its newest occurrence.
            // Enforcement first, and the response latency is measured to it:
            // a capture (a ring buffer and a file to create) comes after.
            let enforced = Set(alert.actions.filter { $0.enforces }.filter { perform($0, alert: alert) })
            if !enforced.isEmpty {
                alert.responseLatencyMs = Double(Int64(now) - Int64(decidedNs)) / 1e6
            }
            let others = Set(alert.actions.filter { !$0.enforces }.filter { perform($0, alert: alert) })
            alert.actions = alert.actions.filter { enforced.contains($0) || others.contains($0) }
            guard let line = try? AlertJSON.line(alert) else { continue }
            output.write(line)
            alertLog?.append(alert, json: line)
            if !alert.isUpdate { metrics?.alert(kind: alert.kind.rawValue, detectionLatencyMs: alert.detectionLatencyMs) }
            state.withLock { $0.written += 1 }
        }
    }

    /// Whether the kernel still holds what `action` put there: an operator
    /// may have released it (`quarantine release`, `blocklist del`).
    static func inForce(_ action: ResponseAction, datapath: Datapath) -> Bool {
        switch action {
        case .quarantine(_, let ifindex, _):
            guard let entry = try? datapath.quarantine.entry(ifindex) else { return false }
            return entry.expiresNs.map { MonotonicClock.now() < $0 } ?? true
        case .block(let remote, _):
            return (try? datapath.blocklist.match(remote)) != nil
        case .none, .capture, .kill:
            return true
        }
    }

    /// Carries out one action; false when it could not be done (it is then
    /// left out of the alert, and the reason logged).
    private func perform(_ action: ResponseAction, alert: Alert) -> Bool {
        do {
            switch action {
            case .none:
                return true
            case .block(let remote, let ttl):
                let expires = MonotonicClock.now() + UInt64(ttl) * 1_000_000_000
                try datapath.blocklist.addDynamic(IPPrefix(host: remote), expiresNs: expires)
            case .quarantine(_, let ifindex, let ttl):
                try datapath.quarantine.quarantine(ifindex, since: MonotonicClock.now(), for: UInt64(ttl) * 1_000_000_000)
            case .kill(_, true):
                break  // the kernel killed it at exec
            case .kill(let pid, false):
                guard Glibc.kill(pid_t(pid), SIGKILL) == 0 else {
                    throw ValidationFailure("killing process \(pid): \(String(cString: strerror(errno)))")
                }
            case .capture:
                guard let captures else {
                    logger.notice("capture requested by alert \(alert.id): captures are disabled (no capture directory)")
                    return false
                }
                let settings = state.withLock { $0.captureSettings }
                let request = AlertCapture.request(for: alert, interface: alert.source.interface, settings: settings)
                try captures.start(request, prelude: AlertCapture.triggeringPacket(for: alert).map { [$0] } ?? [])
            }
            state.withLock { $0.taken += 1 }
            return true
        } catch {
            logger.error("response to alert \(alert.id) failed: \(error)")
            return false
        }
    }
}

/// Where alerts go: JSON lines on stdout or appended to a file, flushed per alert.
final class AlertOutput: Sendable {
    /// Written under its lock: one alert's line at a time.
    private let handle: Mutex<FileHandle>

    init(path: String?) throws {
        guard let path else {
            handle = Mutex(FileHandle.standardOutput)
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)  // a failure is reported just below
        }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw ValidationFailure("cannot open alerts file \(path) for writing")
        }
        file.seekToEndOfFile()
        handle = Mutex(file)
    }

    func write(_ line: String) {
        handle.withLock { $0.write(Data((line + "\n").utf8)) }
    }
}

struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Drop records (a kernel type) in the detectors' input model.
enum DetectionInput {
    /// `location`: for a cgroup hook's refusal, where its process sits; the
    /// kernel's record has no pod interface or address to key the pod by.
    static func dropEvent(_ drop: DropRecord, locatedAt location: ProcessLocator.Location? = nil) -> DropEvent {
        var key = drop.key
        if let ifindex = location?.ifindex { key.ifindex = ifindex }
        if let address = location?.address { key.pod = address }
        return DropEvent(
            key: key, timestampNs: drop.timestamp, matchedPrefix: drop.matched?.description ?? "",
            reason: drop.reason == .quarantine ? .quarantine : .blocklist,
            process: drop.process.map {
                AlertProcess(
                    pid: $0.pid, tgid: $0.tgid, uid: $0.uid, comm: $0.comm, cgroupId: $0.cgroupID, cgroupPath: location?.cgroupPath)
            })
    }
}
