import PodwallBenchBPFObjects
import PodwallCore
import PodwallDetection
import PodwallKernel

/// What the file programs are during a window of an open loop.
enum FileSetup: String, CaseIterable {
    case detached = "not attached"
    /// A program that does nothing on the same tracepoint: the floor.
    case emptyProgram = "empty program"
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
    /// nil, with file events off, for `.detached` (`.emptyProgram` is
    /// `attach`'s). Links close when the result is released.
    func attachFiles(_ setup: FileSetup, to monitor: ProcessMonitor, watched: Bool = false) throws -> FileMonitor? {
        let files = setup == .detached ? nil : try FileMonitor(sharingWith: monitor, pinRoot: nil)
        try files?.rules.set(Self.kernelRules(setup, watched: watched))
        try watch(with: monitor, files: files != nil)
        return files
    }

    /// `setup`'s programs attached (with the watched rule), and the one on
    /// the open's exit, whose run-time statistics are read.
    func attachTimed(_ setup: FileSetup, to monitor: ProcessMonitor) throws -> (attached: Any, program: BPFProgram) {
        if setup == .emptyProgram {
            let empty = try emptyProgram(beside: monitor)
            return (empty, try empty.object.program(named: EmptyProgram.name))
        }
        let files = try attachFiles(setup, to: monitor, watched: true)!
        return (files, try files.object.program(named: "pw_sys_exit_openat"))
    }

    /// What `setup` attaches for a window of the open loop; released, detached.
    func attach(_ setup: FileSetup, to monitor: ProcessMonitor) throws -> Any? {
        setup == .emptyProgram ? try emptyProgram(beside: monitor) : try attachFiles(setup, to: monitor)
    }

    /// The file programs detached (file events off), the empty one attached.
    private func emptyProgram(beside monitor: ProcessMonitor) throws -> EmptyProgram {
        _ = try attachFiles(.detached, to: monitor)
        return try EmptyProgram()
    }
}

/// bpf/bench/tracepoint_floor.bpf.c's program on the open's exit; detached when released.
struct EmptyProgram {
    static let name = "empty_sys_exit_openat"
    let object: BPFObject
    let link: TracepointLink

    init() throws {
        object = try BPFObject(image: .tracepoint_floor, pinRoot: nil)
        link = try TracepointLink(object, program: Self.name, category: "syscalls", name: "sys_exit_openat")
    }
}
