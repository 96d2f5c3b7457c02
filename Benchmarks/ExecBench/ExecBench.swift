import Foundation
import PodwallBenchSupport
import PodwallCore
import PodwallDetection
import PodwallKernel
import PodwallLab

/// The lab pod's container, the loop, and podwall's process pillar loaded
/// as the agent loads it.
struct ExecBench {
    let lab: Lab
    let container: Container
    let mount: String
    /// Where the host loop runs: under the lab's cgroup, beside the pods' cgroup.
    let hostCgroup: String
    let loop: ExecLoop

    /// The programs watching the lab's pods with both kill switches on and
    /// the default names set, as `podwall run` sets them. Unpinned: its
    /// links close when it is released.
    func loadMonitor(eventBufferBytes: UInt32 = ProcessMonitor.defaultEventBufferBytes) throws -> ProcessMonitor {
        let monitor = try ProcessMonitor(pinRoot: nil, eventBufferBytes: eventBufferBytes)
        try monitor.policy.setNames(ProcessRules().execClasses)
        try watch(with: monitor, files: false)
        return monitor
    }

    /// Watches the lab's pods with both kill switches on, and their file
    /// operations when `files` (with the file programs loaded).
    func watch(with monitor: ProcessMonitor, files: Bool) throws {
        try monitor.policy.watch(
            podsCgroup: mount + Container.podsCgroup(of: lab), mount: mount, kills: [.reverseShell, .denied], files: files)
    }

    /// `loop` (the bench's own by default) run once in `place`.
    func run(_ place: ExecLoop.Place, _ loop: ExecLoop? = nil) throws -> ExecLoop.Result {
        try (loop ?? self.loop).run(in: place, lab: lab, container: container, mount: mount, hostCgroup: hostCgroup)
    }
}
