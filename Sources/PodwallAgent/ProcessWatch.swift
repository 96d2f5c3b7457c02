import Foundation
import Logging
import PodwallCore
import PodwallDetection
import PodwallKernel
import Synchronization

/// The process pillar in the agent: the exec, fork and exit programs pointed
/// at the pods' cgroup with the kill switches the responses ask for, and
/// their events turned into alerts that name the pod and the process.
final class ProcessWatch: Sendable {
    let monitor: ProcessMonitor
    /// The file and breakout programs, on the same ring (nil: off, or refused by the kernel).
    let files: FileMonitor?
    let reader: RingBufferReader<ProcessEvent>
    /// Exec ids carry the node's name, so they are unique across nodes.
    let node: String
    let podsCgroup: String
    let cgroupMount: String
    let procRoot: String
    /// Fed by the events task; alerts of every kind read it to name their process.
    private let cache = Mutex(ProcessCache())
    /// Each container's root on the host (by cgroup), for file alerts' host paths.
    private let roots: ContainerRoots

    init(monitor: ProcessMonitor, files: FileMonitor?, node: String, podsCgroup: String, cgroupMount: String, procRoot: String) {
        self.monitor = monitor
        self.files = files
        reader = RingBufferReader(mapFD: monitor.eventsFD, pollTimeoutMilliseconds: ProcessMonitor.pollMilliseconds) {
            ProcessEvent(record: $0)
        }
        self.node = node
        self.podsCgroup = podsCgroup
        self.cgroupMount = cgroupMount
        self.procRoot = procRoot
        roots = ContainerRoots(procRoot: procRoot)
    }

    var statistics: ProcessCacheStatistics { cache.withLock { $0.statistics } }

    /// Loads and points the programs; nil, with one sentence logged, when the
    /// kernel or the configuration leaves the process pillar off.
    static func start(_ configuration: AgentConfiguration, podsCgroup: String?, logger: Logger) -> ProcessWatch? {
        guard configuration.processesEnabled else {
            logger.info("process events disabled (processes.enabled: false): podwall watches the network only")
            return nil
        }
        guard let podsCgroup, let mount = CgroupHooks.cgroup2Mount() else {
            logger.warning("process events off: no pods' cgroup to watch (pass --cgroup PATH); podwall watches the network only")
            return nil
        }
        do {
            let monitor = try ProcessMonitor(pinRoot: configuration.pinRoot, eventBufferBytes: configuration.processEventBufferBytes)
            let files = startFiles(configuration, monitor: monitor, logger: logger)
            try apply(configuration, to: monitor, files: files, podsCgroup: podsCgroup, mount: mount)
            logger.info("process events on", metadata: ["cgroup": "\(podsCgroup)"])
            if let reason = monitor.syscallTracepointsUnavailable {
                logger.warning(
                    "syscall tracepoints unavailable (\(reason)): a running shell that redirects its stdio to a socket is not seen, and a relayed shell is killed by the agent, not in the kernel"
                )
            }
            return ProcessWatch(
                monitor: monitor, files: files, node: ProcessInfo.processInfo.hostName, podsCgroup: podsCgroup, cgroupMount: mount,
                procRoot: configuration.procRoot)
        } catch {
            logger.warning("process events unavailable (\(error)); podwall watches the network only")
            return nil
        }
    }

    /// The file and breakout programs; nil, with one sentence logged, when
    /// off or when the kernel refuses them (the process pillar goes on).
    static func startFiles(_ configuration: AgentConfiguration, monitor: ProcessMonitor, logger: Logger) -> FileMonitor? {
        guard configuration.filesEnabled else {
            logger.info("file and breakout events disabled (files.enabled: false)")
            return nil
        }
        do {
            let files = try FileMonitor(sharingWith: monitor, pinRoot: configuration.pinRoot)
            if !files.unavailable.isEmpty {
                logger.notice("this kernel lacks \(files.unavailable.joined(separator: ", ")): those syscalls are not watched")
            }
            return files
        } catch {
            logger.warning("file and breakout events unavailable (\(error)): podwall watches processes and the network only")
            return nil
        }
    }

    /// The kernel's view of the configuration: what to watch, which names
    /// are what, which paths, and which kills the responses ask for.
    static func apply(
        _ configuration: AgentConfiguration, to monitor: ProcessMonitor, files: FileMonitor?, podsCgroup: String, mount: String
    ) throws {
        let rules = configuration.detection.processRules
        let policy = configuration.detection.policy
        var kills: ProcessPolicyTable.Kills = []
        if policy.reverseShell.kill { kills.insert(.reverseShell) }
        if !rules.denied.isEmpty { kills.insert(.denied) }
        if policy.breakout.kill { kills.insert(.breakout) }
        if policy.dropExecute.kill { kills.insert(.droppedExec) }
        try monitor.policy.setNames(rules.execClasses)
        // Rules first: the programs judge paths as soon as they watch.
        let fileRules = configuration.detection.fileRules
        try files?.rules.set(kernelRules(fileRules, policy: policy), breakoutNames: fileRules.breakoutNames)
        try monitor.policy.watch(
            podsCgroup: podsCgroup, mount: mount, kills: kills, files: files != nil, procRoot: configuration.procRoot)
    }

    /// The rules as the kernel gets them: `sensitive_write: kill` makes every write rule a deny rule.
    static func kernelRules(_ rules: FileRules, policy: ResponsePolicy) -> [FileRule] {
        guard policy.sensitiveWrite.kill else { return rules.rules }
        return rules.rules.map { rule in
            var rule = rule
            if rule.access.contains(.write) { rule.access.insert(.kill) }
            return rule
        }
    }

    /// A configuration reload: names, paths and kill switches change at once.
    func reconfigure(_ configuration: AgentConfiguration) throws {
        try Self.apply(configuration, to: monitor, files: files, podsCgroup: podsCgroup, mount: cgroupMount)
    }

    /// Keeps the process cache (seeded from /proc) and feeds every exec to
    /// detection, named by pod, process and ancestry.
    func consume(pipeline: DetectionPipeline, locator: ProcessLocator?) async throws {
        if monitor.syscallTracepointsUnavailable == nil { pipeline.awaitKernelRelayDecisions() }
        // Reading starts first, so a process that starts during the /proc walk is not missed.
        let events = try reader.records()
        let running = RunningProcesses.read(procRoot: procRoot, mount: cgroupMount, podsCgroup: podsCgroup)
        cache.withLock { $0.seed(running) }
        var collectedNs: UInt64 = 0
        for await batch in events {
            for event in batch {
                cache.withLock { $0.apply(event) }
                switch event {
                case .exec(let exec):
                    let source = source(
                        of: exec.process, comm: exec.comm, uid: exec.uid, family: exec.stdioSockets.first?.remote.family, locator: locator)
                    pipeline.handle(exec, source: source)
                case .stdioRedirect(let redirect):
                    let source = source(
                        of: redirect.process, comm: redirect.comm, uid: redirect.uid, family: redirect.socket.remote.family,
                        locator: locator)
                    pipeline.handle(redirect, source: source)
                case .relayConnect(let relay):
                    pipeline.handle(relay)
                case .file(var file):
                    file.hostRoot = roots.root(of: file.process)
                    pipeline.handle(file, source: source(of: file.process, comm: file.comm, uid: file.uid, family: nil, locator: locator))
                case .breakout(let attempt):
                    let source = source(of: attempt.process, comm: attempt.comm, uid: attempt.uid, family: nil, locator: locator)
                    pipeline.handle(attempt, source: source)
                case .fork, .exit:
                    break
                }
                if event.timestampNs > collectedNs + 1_000_000_000 {
                    cache.withLock { $0.collect(now: event.timestampNs) }
                    collectedNs = event.timestampNs
                }
            }
        }
    }

    /// The pod (by its interface and address) and the process's current
    /// program, with its exec id, arguments and ancestors from the cache.
    func source(of identity: ProcessIdentity, comm: String, uid: UInt32, family: IPFamily?, locator: ProcessLocator?) -> AlertSource {
        let location = locator?.locateRemembering(tgid: identity.pid, cgroupID: identity.cgroupID, family: family ?? .v4)
        var process = AlertProcess(
            pid: identity.pid, tgid: identity.pid, uid: uid, comm: comm, cgroupId: identity.cgroupID, cgroupPath: location?.cgroupPath)
        process.namespacePid = identity.namespacePid
        describe(&process)
        return AlertSource(
            address: location?.address ?? IPAddress(high: 0, low: 0), ifindex: location?.ifindex ?? 0, cgroupId: identity.cgroupID,
            process: process)
    }

    /// Adds what the cache knows of the program the process ran at `atNs`
    /// (nil: now): exec id, binary, arguments, ancestors (parent first). A
    /// flow's connect names the program that made it even if the process
    /// exec'd another since (`nc -e sh`).
    func describe(_ process: inout AlertProcess, at atNs: UInt64? = nil) {
        let known: (ProcessEntry, [ProcessEntry])? = cache.withLock { cache in
            let program =
                atNs.flatMap { cache.attribute(pid: process.tgid, at: $0) }.flatMap { cache.entry($0) } ?? cache.current(pid: process.tgid)
            return program.map { ($0, cache.ancestry(of: $0.execID)) }
        }
        guard let (program, ancestry) = known else { return }
        process.execId = program.execID.qualified(node: node)
        process.namespacePid = process.namespacePid ?? program.identity.namespacePid
        process.binary = program.filename
        process.arguments = program.arguments
        process.ancestors = program.ancestorNames(ancestry: ancestry)
    }

    func stop() {
        reader.stop()
    }
}
