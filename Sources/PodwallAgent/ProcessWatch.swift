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
    let reader: RingBufferReader<ProcessEvent>
    /// Exec ids carry the node's name, so they are unique across nodes.
    let node: String
    let podsCgroup: String
    let cgroupMount: String
    let procRoot: String
    /// The cache's counters as of its last event, for metrics.
    private let cacheStatistics = Mutex(ProcessCacheStatistics())

    init(monitor: ProcessMonitor, node: String, podsCgroup: String, cgroupMount: String, procRoot: String) {
        self.monitor = monitor
        reader = RingBufferReader(mapFD: monitor.eventsFD) { ProcessEvent(record: $0) }
        self.node = node
        self.podsCgroup = podsCgroup
        self.cgroupMount = cgroupMount
        self.procRoot = procRoot
    }

    var statistics: ProcessCacheStatistics { cacheStatistics.withLock { $0 } }

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
            try apply(configuration, to: monitor, podsCgroup: podsCgroup, mount: mount)
            logger.info("process events on", metadata: ["cgroup": "\(podsCgroup)"])
            return ProcessWatch(
                monitor: monitor, node: ProcessInfo.processInfo.hostName, podsCgroup: podsCgroup, cgroupMount: mount,
                procRoot: configuration.procRoot)
        } catch {
            logger.warning("process events unavailable (\(error)); podwall watches the network only")
            return nil
        }
    }

    /// The kernel's view of the configuration: what to watch, which names
    /// are what, and which kills the responses ask for.
    static func apply(_ configuration: AgentConfiguration, to monitor: ProcessMonitor, podsCgroup: String, mount: String) throws {
        let rules = configuration.detection.processRules
        var kills: ProcessPolicyTable.Kills = []
        if configuration.detection.policy.reverseShell.kill { kills.insert(.reverseShell) }
        if !rules.denied.isEmpty { kills.insert(.denied) }
        try monitor.policy.setNames(rules.execClasses)
        try monitor.policy.watch(podsCgroup: podsCgroup, mount: mount, kills: kills)
    }

    /// A configuration reload: names and kill switches change at once.
    func reconfigure(_ configuration: AgentConfiguration) throws {
        try Self.apply(configuration, to: monitor, podsCgroup: podsCgroup, mount: cgroupMount)
    }

    /// Keeps the process cache (seeded from /proc) and feeds every exec to
    /// detection, named by pod, process and ancestry.
    func consume(pipeline: DetectionPipeline, locator: ProcessLocator?) async throws {
        // Reading starts first, so a process that starts during the /proc walk is not missed.
        let events = try reader.records()
        var cache = ProcessCache()
        cache.seed(RunningProcesses.read(procRoot: procRoot, mount: cgroupMount, podsCgroup: podsCgroup))
        var collectedNs: UInt64 = 0
        for await event in events {
            cache.apply(event)
            if case .exec(let exec) = event {
                let ancestors = cache.lineage(of: exec.execID).map { Array($0.components(separatedBy: " -> ").reversed().dropFirst()) }
                pipeline.handle(exec, source: source(of: exec, ancestors: ancestors, locator: locator))
            }
            if event.timestampNs > collectedNs + 1_000_000_000 {
                cache.collect(now: event.timestampNs)
                collectedNs = event.timestampNs
            }
            cacheStatistics.withLock { $0 = cache.statistics }
        }
    }

    func source(of exec: ExecRecord, ancestors: [String]?, locator: ProcessLocator?) -> AlertSource {
        let family = exec.stdioSockets.first?.remote.family ?? .v4
        let location = locator?.locate(tgid: exec.process.pid, cgroupID: exec.process.cgroupID, family: family)
        var process = AlertProcess(
            pid: exec.process.pid, tgid: exec.process.pid, uid: exec.uid, comm: exec.comm, cgroupId: exec.process.cgroupID,
            cgroupPath: location?.cgroupPath)
        process.execId = exec.execID.qualified(node: node)
        process.namespacePid = exec.process.namespacePid
        process.binary = exec.filename
        process.arguments = exec.arguments
        process.ancestors = ancestors
        return AlertSource(
            address: location?.address ?? IPAddress(high: 0, low: 0), ifindex: location?.ifindex ?? 0,
            cgroupId: exec.process.cgroupID, process: process)
    }

    func stop() {
        reader.stop()
    }
}
