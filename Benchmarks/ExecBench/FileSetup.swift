import PodwallCore
import PodwallDetection
import PodwallKernel

/// What the file programs are during a window of an open loop.
enum FileSetup: String, CaseIterable {
    case detached = "not attached"
    case noRules = "attached, no rules"
    case defaultRules = "attached, default rules"
}

extension ExecBench {
    /// The paths the loops open, as a pod's process sees them. A read of a
    /// file every distribution's tools read, on the host's /usr (bound
    /// read-only into the container): its name is not a watched one.
    static let readPath = "/usr/lib/os-release"
    /// A write to a volume (/shared, a bind mount) that no rule covers:
    /// the path is walked and looked up, and stays in the kernel.
    static let unwatchedWritePath = "/shared/out"
    /// A write under the bench's one rule beside the defaults (the
    /// defaults' write paths are read-only in this container): reported.
    static let watchedWritePath = "/shared/watched/out"
    static let watchedRule = FileRule("/shared/watched/", .write)

    /// The rules as the agent sets them (`FileRules` merges a path's
    /// rules: /etc/shadow is watched for writes and reads).
    static func kernelRules(_ setup: FileSetup, watched: Bool = false) -> [FileRule] {
        setup == .defaultRules ? FileRules(FileRules.defaults + (watched ? [watchedRule] : [])).rules : []
    }

    /// The file programs attached beside `monitor` (sharing its maps and
    /// ring) as the agent attaches them, rules first, then file events on;
    /// nil, with file events off, for `.detached`. Links close when the
    /// result is released.
    func attachFiles(_ setup: FileSetup, to monitor: ProcessMonitor, watched: Bool = false) throws -> FileMonitor? {
        let files = setup == .detached ? nil : try FileMonitor(sharingWith: monitor, pinRoot: nil)
        try files?.rules.set(Self.kernelRules(setup, watched: watched))
        try watch(with: monitor, files: files != nil)
        return files
    }
}
