import Foundation
import Logging
import PodwallCore
import PodwallDetection
import PodwallKernel

/// The process pillar in the agent: the exec, fork and exit programs pointed
/// at the pods' cgroup with the kill switches the responses ask for, and
/// their events turned into alerts that name the pod and the process.
struct ProcessWatch: Sendable {
    let monitor: ProcessMonitor
    let reader: RingBufferReader<ProcessEvent>
    /// Exec ids carry the node's name, so they are unique across nodes.
    let node: String
    let podsCgroup: String
    let cgroupMount: String

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
                monitor: monitor, reader: RingBufferReader(mapFD: monitor.eventsFD) { ProcessEvent(record: $0) },
                node: ProcessInfo.processInfo.hostName, podsCgroup: podsCgroup, cgroupMount: mount)
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

    /// Feeds every exec to detection, named by pod and process.
    func consume(pipeline: DetectionPipeline, locator: ProcessLocator?) async throws {
        for await event in try reader.records() {
            guard case .exec(let exec) = event else { continue }
            pipeline.handle(exec, source: source(of: exec, locator: locator))
        }
    }

    func source(of exec: ExecRecord, locator: ProcessLocator?) -> AlertSource {
        let family = exec.stdioSockets.first?.remote.family ?? .v4
        let location = locator?.locate(tgid: exec.process.pid, cgroupID: exec.process.cgroupID, family: family)
        var process = AlertProcess(
            pid: exec.process.pid, tgid: exec.process.pid, uid: exec.uid, comm: exec.comm, cgroupId: exec.process.cgroupID,
            cgroupPath: location?.cgroupPath)
        process.execId = exec.execID.qualified(node: node)
        process.namespacePid = exec.process.namespacePid
        process.binary = exec.filename
        process.arguments = exec.arguments
        return AlertSource(
            address: location?.address ?? IPAddress(high: 0, low: 0), ifindex: location?.ifindex ?? 0,
            cgroupId: exec.process.cgroupID, process: process)
    }

    func stop() {
        reader.stop()
    }
}
