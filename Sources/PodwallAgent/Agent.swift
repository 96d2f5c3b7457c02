import Foundation
import Logging
import PodwallCapture
import PodwallCore
import PodwallDetection
import PodwallKernel
import ServiceLifecycle

/// The node agent: loads (or adopts) the data path, attaches it to every pod
/// interface as links come and go, consumes flow events and sweeps idle
/// flows. Stopping leaves programs and pinned maps in place, so enforcement
/// and flow state survive a restart or an upgrade.
public final class Agent: Sendable {
    public let configuration: AgentConfiguration
    let source: ConfigSource?
    let logger: Logger

    public init(configuration: AgentConfiguration, source: ConfigSource? = nil, logger: Logger) {
        self.configuration = configuration
        self.source = source
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    public func run() async throws {
        let signals = ShutdownSignals()  // a stop asked for while the data path loads is kept for later
        // The only writer of these pins while it runs; the CLI writes through its local socket.
        let writer = try PinWriterLock.acquire(pinRoot: configuration.pinRoot, waitingUpTo: 5)
        defer { writer.release() }
        let adopted = PinnedState(pinRoot: configuration.pinRoot).isInstalled
        let datapath = try Datapath(
            options: .init(
                pinRoot: configuration.pinRoot, flowEntries: configuration.flowEntries,
                eventBufferBytes: configuration.eventBufferBytes, attachMode: configuration.attachMode))
        datapath.blocklist.loadKernelState()
        logger.info(
            "data path loaded",
            metadata: [
                "pins": "\(configuration.pinRoot)", "adopted": "\(adopted)",
                "flows_in_map": "\(adopted ? datapath.flows.count : 0)",
                "attach": "\(datapath.usesTCX ? "tcx" : "clsact")"
            ])
        for feature in datapath.features.report(usesTCX: datapath.usesTCX) where feature.state != .available {
            logger.warning(
                "kernel feature \(feature.state == .fallback ? "not available, falling back" : "missing"): \(feature.name)",
                metadata: ["kernel": "\(datapath.features.release)", "effect": "\(feature.effect)"])
        }
        try datapath.allowlist.replace(with: configuration.allow)
        try datapath.policy.setPodEventBudget(perSecond: configuration.podEventsPerSecond, burst: configuration.podEventBurst)
        let hookCgroup = attachCgroupHooks(datapath)
        let watcher = try LinkWatcher()
        let events = RingBufferReader(mapFD: datapath.eventsFD) { KernelEvent(record: $0) }
        let captures = makeCaptureManager(datapath)
        let metrics = AgentMetrics()
        let flowSnapshots = FlowSnapshots(table: datapath.flows)
        let alertLog = AlertLog()
        let identities = PodIdentities(procRoot: configuration.procRoot, kubelet: configuration.kubelet, logger: logger)
        var processLocator: ProcessLocator?
        if let hookCgroup, let mount = CgroupHooks.cgroup2Mount(), hookCgroup.hasPrefix(mount + "/") {
            processLocator = ProcessLocator(
                procRoot: configuration.procRoot, cgroupMount: mount, hookCgroup: hookCgroup,
                interface: { identities.interface(peerNamespaceID: $0) })
        }
        let processes = ProcessWatch.start(configuration, podsCgroup: hookCgroup, logger: logger)
        var describeProcess: (@Sendable (inout AlertProcess, UInt64) -> Void)?
        if let processes {
            describeProcess = { @Sendable (process: inout AlertProcess, atNs: UInt64) in processes.describe(&process, at: atNs) }
        }
        let pipeline = DetectionPipeline(
            config: configuration.detection, datapath: datapath, output: try AlertOutput(path: configuration.alertsPath),
            captures: captures, captureSettings: configuration.alertCapture, alertLog: alertLog, metrics: metrics,
            podNames: { identities.name($0) }, processLocator: processLocator,
            describeProcess: describeProcess, logger: logger)
        let api = APIState(
            datapath: datapath, metrics: metrics, alerts: alertLog, captures: captures?.store,
            token: APIState.readToken(configuration.apiTokenFile, logger: logger),
            feedPolicy: configuration.feedPolicy, flows: flowSnapshots)
        api.onQuarantineRelease { pipeline.quarantineReleased(ifindex: $0) }
        api.onPodName { identities.name($0) }
        api.onFlowOpener { pipeline.process(opening: $0) }
        api.onScrape {
            metrics.refresh(
                .init(
                    datapath: datapath, flows: flowSnapshots.current(), interfaceNames: api.interfaceNames,
                    queueDrops: events.queueDrops, captures: captures?.totals ?? .init(),
                    processes: processes.map { ($0.monitor.counters, $0.reader.queueDrops, $0.statistics) }))
        }
        let flowEvents = try events.kernelEvents()

        // Started in this order, stopped in reverse on SIGTERM/SIGINT: the API
        // first, the link watcher last; enforcement stays pinned throughout.
        var services: [any Service] = [
            AgentService("links") {
                await self.attachLinks(watcher.events(), datapath: datapath, pipeline: pipeline, api: api, identities: identities)
            },
            AgentService("pod identity") { try await identities.run() },
            CaptureService(captures: captures),
            AgentService("events") { await self.consume(flowEvents, pipeline: pipeline) },
            AgentService("detection") { try await self.drive(pipeline, flows: flowSnapshots) },
            AgentService("sweeper") { try await self.sweepIdleFlows(datapath, flows: flowSnapshots) },
            AgentService("feeds") {
                try await FeedWatcher(
                    configuration: self.configuration, blocklist: datapath.blocklist, logger: self.logger, metrics: metrics
                ).run()
            },
            AgentService("stats") { try await self.reportStats(datapath, events: events, pipeline: pipeline) }
        ]
        if let processes {
            let locator = processLocator
            services.append(AgentService("processes") { try await processes.consume(pipeline: pipeline, locator: locator) })
        }
        if datapath.usesTCX {
            services.append(AgentService("tcx order") { try await self.watchTCXOrder(datapath, api: api, metrics: metrics) })
        }
        if let source {
            services.append(
                AgentService("config") {
                    try await ConfigReloader(source: source, logger: self.logger).run { new in
                        self.apply(new, datapath: datapath, pipeline: pipeline, processes: processes)
                    }
                })
        }
        let socket = RuntimeFiles(pinRoot: configuration.pinRoot).socketPath
        services.append(APIServer.application(api, socket: socket, logger: logger))
        logger.info("local API listening (root only; the CLI writes through it)", metadata: ["socket": "\(socket)"])
        if let address = configuration.apiAddress {
            services.append(APIServer.application(api, address: address, logger: logger))
            logger.info(
                "API listening",
                metadata: ["address": "\(address)", "writes": "\(api.token == nil ? "disabled (no token)" : "bearer token")"])
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, logger: logger))  // signals: `signals`
        await signals.handOver(to: group)
        try await group.run()
        watcher.stop()
        events.stop()
        processes?.stop()
        logger.info("stopped; programs and pinned maps stay in place (podwall uninstall removes them)")
    }

    private func attachLinks(
        _ links: AsyncStream<LinkEvent>, datapath: Datapath, pipeline: DetectionPipeline, api: APIState,
        identities: PodIdentities
    ) async {
        var attached: [UInt32: String] = [:]
        for await event in links {
            switch event {
            case .present(let link):
                guard attached[link.index] != link.name,
                    InterfacePattern.matchesAny(configuration.interfaces, link.name)
                else { continue }
                do {
                    try datapath.attach(link, monotonicNow: MonotonicClock.now())
                    attached[link.index] = link.name
                    pipeline.interfaceAttached(link.index, name: link.name)
                    api.interfaceAttached(link.index, name: link.name)
                    identities.track(link)
                    logger.info("attached", metadata: ["interface": "\(link.name)", "ifindex": "\(link.index)"])
                } catch let error as KernelError where error.errno == ENODEV {
                    logger.debug("interface went away before attach", metadata: ["interface": "\(link.name)"])
                } catch {
                    logger.error("attach failed: \(error)")
                }
            case .synchronized:
                if let present = try? LinkWatcher.namesByIndex() {
                    let vanished = datapath.forgetVanishedInterfaces(present: Set(present.keys))
                    if vanished > 0 {
                        logger.info("forgot interfaces that went away while the agent was down", metadata: ["interfaces": "\(vanished)"])
                    }
                }
                // Readiness: every matching interface present at start is attached.
                api.markReady(interfaces: attached.count)
                logger.info("ready", metadata: ["interfaces": "\(attached.count)"])
            case .removed(let link):
                // Also when its attach failed half way, and it is not in `attached`.
                datapath.forget(link)
                guard attached.removeValue(forKey: link.index) != nil else { continue }
                pipeline.interfaceAttached(link.index, name: nil)
                api.interfaceAttached(link.index, name: nil)
                identities.forget(link.index)
                logger.info("detached (interface gone)", metadata: ["interface": "\(link.name)", "ifindex": "\(link.index)"])
            }
        }
    }

    /// A reloaded configuration: the allowlist, responses and capture
    /// settings change now; other keys are named as needing a restart.
    private func apply(_ new: AgentConfiguration, datapath: Datapath, pipeline: DetectionPipeline, processes: ProcessWatch?) {
        do {
            try datapath.allowlist.replace(with: new.allow)
        } catch {
            logger.error("allowlist not updated: \(error)")
        }
        do {
            try datapath.policy.setPodEventBudget(perSecond: new.podEventsPerSecond, burst: new.podEventBurst)
        } catch {
            logger.error("pods' event budget not updated: \(error)")
        }
        pipeline.reconfigure(
            policy: new.detection.policy, processRules: new.detection.processRules, processBaseline: new.detection.processBaseline,
            fileRules: new.detection.fileRules, capture: new.alertCapture)
        do {
            try processes?.reconfigure(new)
        } catch {
            logger.error("process policy not updated: \(error)")
        }
        let restart = new.keysNeedingRestart(comparedTo: configuration)
        if !restart.isEmpty {
            logger.warning("changed keys take effect after a restart: \(restart.joined(separator: ", "))")
        }
    }

    /// Captures are a forensic extra: without a usable directory the agent
    /// still runs, and says why alerts will not be captured.
    private func makeCaptureManager(_ datapath: Datapath) -> CaptureManager? {
        guard let directory = configuration.captureDirectory else { return nil }
        guard datapath.features.capture else {
            // The warning at start said why (KernelFeatures.report).
            return nil
        }
        do {
            let manager = try CaptureManager(
                table: datapath.captures, directory: directory,
                limits: configuration.captureLimits, logger: logger)
            logger.info(
                "alert captures",
                metadata: [
                    "directory": "\(directory)", "max_file_bytes": "\(configuration.captureLimits.budget.maxFileBytes)",
                    "max_total_bytes": "\(configuration.captureLimits.budget.maxTotalBytes)"
                ])
            return manager
        } catch {
            logger.error("alert captures disabled: \(error)")
            return nil
        }
    }

    /// The cgroup the hooks are attached to, nil when they are not.
    private func attachCgroupHooks(_ datapath: Datapath) -> String? {
        if configuration.cgroupPath == "" {
            logger.info("cgroup hooks disabled: connect()/sendmsg() are not checked, TC still drops")
            return nil
        }
        guard let path = configuration.cgroupPath ?? CgroupHooks.detectPodCgroup() else {
            logger.warning(
                "no pod cgroup found (kubepods under the cgroup v2 mount); connect()/sendmsg() are not checked, TC still drops. Pass --cgroup PATH."
            )
            return nil
        }
        do {
            try datapath.attachCgroupHooks(cgroupPath: path)
            logger.info("cgroup hooks attached", metadata: ["cgroup": "\(path)"])
            return path
        } catch {
            logger.error("cgroup hooks not attached: \(error)")
            return nil
        }
    }

    private func consume(_ events: RecordBatches<KernelEvent>, pipeline: DetectionPipeline) async {
        for await batch in events {
            if configuration.logFlows {
                for case .flow(let flow) in batch { log(flow) }
            }
            pipeline.handle(batch)
        }
    }

    /// Clock-driven detection (unanswered probes, volume samples) at the
    /// cadence `podwall replay` uses too. Each sample reads the flow table
    /// once, and that snapshot is what the sweeper, metrics and API read.
    private func drive(_ pipeline: DetectionPipeline, flows: FlowSnapshots) async throws {
        var clock = DetectionClock(cadence: configuration.detection.cadence)
        _ = clock.advance(to: MonotonicClock.now())
        while !Task.isCancelled {
            try await Task.sleep(for: .nanoseconds(Int(clock.cadence.tickNs)))
            let due = clock.advance(to: MonotonicClock.now())
            // The pipeline decides on its own `now`: one tick covers any missed.
            if !due.ticks.isEmpty { pipeline.tick() }
            if due.sample { pipeline.sample(flows.take()) }
        }
    }

    private func log(_ event: FlowEvent) {
        let key = event.flow.key
        logger.info(
            "flow \(event.kind)",
            metadata: [
                "proto": "\(key.proto)", "pod": "\(FlowFormatter.endpoint(key.pod, key.podPort, key.proto))",
                "remote": "\(FlowFormatter.endpoint(key.remote, key.remotePort, key.proto))",
                "ifindex": "\(key.ifindex)", "direction": "\(event.direction.label)"
            ])
    }

    private func sweepIdleFlows(_ datapath: Datapath, flows: FlowSnapshots) async throws {
        let sweeper = IdleSweeper(
            flows: datapath.flows,
            idleTimeout: UInt64(configuration.idleTimeoutSeconds * 1e9),
            closedTimeout: UInt64(configuration.closedTimeoutSeconds * 1e9))
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(configuration.sweepIntervalSeconds))
            let ended = sweeper.sweep(flows.current(), now: MonotonicClock.now())
            for event in ended where configuration.logFlows {
                log(event)
            }
            for prefix in (try? datapath.blocklist.expire(nowNs: MonotonicClock.now())) ?? [] {
                logger.info("blocklist entry expired", metadata: ["prefix": "\(prefix)"])
            }
        }
    }

    /// Checks, every sweep interval, that podwall's TCX programs still run
    /// first on each pod interface (TCOrderWatch says why it matters).
    private func watchTCXOrder(_ datapath: Datapath, api: APIState, metrics: AgentMetrics) async throws {
        var watch = TCOrderWatch()
        while !Task.isCancelled {
            let inFront = Dictionary(
                uniqueKeysWithValues: api.interfaceNames.keys.flatMap { ifindex in
                    TCHook.allCases.compactMap { hook in
                        PodInterfaceAttachment.programInFront(ifindex: ifindex, hook: hook).map {
                            (TCOrderWatch.Hook(ifindex: ifindex, hook: hook), $0)
                        }
                    }
                })
            let (fellBehind, firstAgain) = watch.update(behind: Set(inFront.keys))
            // Read after the queries: a hook of an interface that went away
            // meanwhile is not "first again", just gone.
            let names = api.interfaceNames
            for (hook, program) in inFront where fellBehind.contains(hook) {
                logger.warning(
                    "another TCX program runs before podwall's: packets it passes or redirects skip podwall's flow tracking, quarantine and blocklist drops at TC",
                    metadata: [
                        "interface": "\(names[hook.ifindex] ?? "if\(hook.ifindex)")", "hook": "\(hook.hook)",
                        "program_id": "\(program)", "program": "\(ProgramInfo.name(ofID: program) ?? "?")"
                    ])
            }
            for hook in firstAgain {
                guard let name = names[hook.ifindex] else { continue }
                logger.info("podwall's TCX program runs first again", metadata: ["interface": "\(name)", "hook": "\(hook.hook)"])
            }
            metrics.tcHooksNotFirst(inFront.count)
            try await Task.sleep(for: .seconds(configuration.sweepIntervalSeconds))
        }
    }

    private func reportStats(_ datapath: Datapath, events: RingBufferReader<KernelEvent>, pipeline: DetectionPipeline) async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(configuration.statsIntervalSeconds))
            var metadata: Logger.Metadata = [:]
            for (name, value) in datapath.counters.snapshot() { metadata[name] = "\(value)" }
            metadata["events_delivered"] = "\(events.deliveredCount)"
            metadata["events_queue_drops"] = "\(events.queueDrops)"
            metadata["alerts_written"] = "\(pipeline.alertsWritten)"
            metadata["responses_taken"] = "\(pipeline.actionsTaken)"
            logger.info("stats", metadata: metadata)
        }
    }
}

/// One of the agent's long-running tasks as a ServiceLifecycle service: it
/// ends when the group shuts down gracefully.
struct AgentService: Service, CustomStringConvertible {
    let description: String
    let body: @Sendable () async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        description = name
        self.body = body
    }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await body() }
        } catch is CancellationError {
            // A graceful shutdown cancels the body: that is a clean stop.
        }
    }
}

/// The pcap writer's part in a shutdown: after the services that start
/// captures have stopped, every capture is stopped and its file flushed and closed.
struct CaptureService: Service, CustomStringConvertible {
    let captures: CaptureManager?
    var description: String { "pcap writer" }

    func run() async throws {
        try? await gracefulShutdown()
        await captures?.stopAll()
    }
}
