import CPodwallShim
import Glibc
import PodwallABI
import PodwallBPFObjects
import PodwallCore

/// The process pillar's programs (exec, fork and exit tracepoints) and
/// their maps. With a pin root the maps and the tracepoint links are pinned
/// there, so the kill policy keeps working while the agent restarts and
/// `podwall uninstall` (which removes every pin) detaches them.
public final class ProcessMonitor: Sendable {
    public let object: BPFObject
    public let policy: ProcessPolicyTable
    public let counters: ProcessCounters
    public let eventsFD: Int32
    /// Unpinned links (no pin root): they detach when the monitor goes.
    private let links: [FileDescriptor]
    /// The syscall tracepoint links: dup2/dup3 exits and connect's entry
    /// (pinned where the kernel allows).
    private let syscallLinks: [TracepointLink]
    /// Why the syscall tracepoints are not attached, if they are not: a
    /// running shell redirecting its stdio to a socket is then not seen, and
    /// a relay is not killed at its connect.
    public let syscallTracepointsUnavailable: String?

    public static let defaultEventBufferBytes = UInt32(PW_PROCESS_EVENTS_DEFAULT_BYTES)
    /// How often the reader polls the ring for events that did not wake it.
    public static let pollMilliseconds = Int32(PW_PROCESS_POLL_MS)

    static let programs = [PW_PROG_EXEC_NAME, PW_PROG_FORK_NAME, PW_PROG_EXIT_NAME]

    public init(pinRoot: String?, eventBufferBytes: UInt32 = defaultEventBufferBytes) throws {
        if let pinRoot { try BPFFilesystem.prepare(pinRoot: pinRoot) }
        object = try BPFObject(
            image: .process, pinRoot: pinRoot, maxEntries: [PW_MAP_PROCESS_EVENTS_NAME: eventBufferBytes])
        policy = ProcessPolicyTable(
            config: try object.map(named: PW_MAP_PROCESS_CONFIG_NAME), names: try object.map(named: PW_MAP_EXEC_NAMES_NAME))
        counters = ProcessCounters(
            counters: PerCPUCounters(fd: try object.mapDescriptor(named: PW_MAP_PROCESS_COUNTERS_NAME), owner: object))
        eventsFD = try object.mapDescriptor(named: PW_MAP_PROCESS_EVENTS_NAME)
        var links: [FileDescriptor] = []
        for name in Self.programs {
            let link = try Self.attach(try object.program(named: name))
            if let pinRoot {
                try Self.pin(link, at: pinRoot + "/link_" + name)
            } else {
                links.append(link)
            }
        }
        self.links = links
        (syscallLinks, syscallTracepointsUnavailable) = Self.attachSyscallTracepoints(object, pinRoot: pinRoot)
    }

    static let syscallTracepoints = [
        (PW_PROG_DUP2_NAME, "sys_exit_dup2"), (PW_PROG_DUP3_NAME, "sys_exit_dup3"), (PW_PROG_CONNECT_NAME, "sys_enter_connect")
    ]

    /// The syscall tracepoints; their absence costs two techniques' kernel
    /// answers, not the pillar.
    static func attachSyscallTracepoints(_ object: BPFObject, pinRoot: String?) -> ([TracepointLink], String?) {
        do {
            let links = try syscallTracepoints.map { program, tracepoint in
                let link = try TracepointLink(object, program: program, category: "syscalls", name: tracepoint)
                if let pinRoot { _ = link.pin(at: pinRoot + "/link_" + program) }
                return link
            }
            return (links, nil)
        } catch {
            return ([], "\(error)")
        }
    }

    /// A BTF tracepoint program's link (its tracepoint is in the program).
    static func attach(_ program: BPFProgram) throws -> FileDescriptor {
        let fd = bpf_raw_tracepoint_open(nil, program.fd)
        try KernelError.check(fd, "attaching \(program.name) to its tracepoint on", "this kernel")
        return FileDescriptor(fd)
    }

    /// Tracing links cannot swap their program in place: the new link is
    /// pinned beside the old and renamed over it, which detaches the old one
    /// with no moment unwatched (both run for an instant; exits and forks
    /// seen twice are harmless to the cache).
    static func pin(_ link: FileDescriptor, at path: String) throws {
        try BPFFilesystem.replacePin(at: path) { bpf_obj_pin(link.fd, $0) }
    }

    /// Detaches the pinned links under `pinRoot` (the maps stay).
    public static func detachPinned(under pinRoot: String) {
        for name in programs + syscallTracepoints.map(\.0) { _ = unlink(pinRoot + "/link_" + name) }
    }

    /// Every event now in the ring, decoded (tests, tools).
    public func drain() throws -> [ProcessEvent] {
        try RingBufferReader<ProcessEvent>.drain(mapFD: eventsFD) { ProcessEvent(record: $0) }
    }
}
