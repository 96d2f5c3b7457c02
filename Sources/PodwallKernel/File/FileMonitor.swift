import CPodwallShim
import Glibc
import PodwallABI
import PodwallBPFObjects
import PodwallCore

/// The file and breakout programs (syscall tracepoints), loaded beside the
/// process programs and sharing their ring, config, counters and names:
/// their events arrive with the process events, in order. Each program is
/// attached to the tracepoint its section names; a kernel without some
/// syscalls (openat2 before 5.6, the legacy open on arm64) loses those only.
public final class FileMonitor: Sendable {
    public let object: BPFObject
    public let rules: FileRuleTable
    private let links: [TracepointLink]
    /// Tracepoints this kernel lacks (their syscalls are not watched).
    public let unavailable: [String]

    /// Without these the pillar is off: the calls every libc makes.
    static let required: Set<String> = [
        "sys_exit_openat", "sys_enter_unlinkat", "sys_enter_renameat2", "sys_enter_setns", "sys_enter_unshare", "sys_enter_mount"
    ]

    public init(sharingWith process: ProcessMonitor, pinRoot: String?) throws {
        object = try BPFObject(image: .file, pinRoot: pinRoot, sharingMapsWith: process.object)
        rules = FileRuleTable(
            rules: try object.map(named: PW_MAP_FILE_RULES_NAME), names: try object.map(named: PW_MAP_FILE_NAMES_NAME))
        var links: [TracepointLink] = []
        var unavailable: [String] = []
        for (program, tracepoint) in Self.programs(of: object) {
            do {
                let link = try TracepointLink(object, program: program, category: "syscalls", name: tracepoint)
                if let pinRoot { _ = link.pin(at: pinRoot + "/link_" + program) }
                links.append(link)
            } catch {
                guard !Self.required.contains(tracepoint) else { throw error }
                _ = LibbpfLog.take()  // said in `unavailable`, not as libbpf's lines
                unavailable.append(tracepoint)
            }
        }
        self.links = links
        self.unavailable = unavailable
    }

    /// Each program's name and the syscall tracepoint of its section
    /// ("tracepoint/syscalls/sys_exit_openat").
    static func programs(of object: BPFObject) -> [(program: String, tracepoint: String)] {
        var programs: [(String, String)] = []
        var program = bpf_object__next_program(object.handle, nil)
        while let current = program {
            let section = String(cString: bpf_program__section_name(current))
            if let tracepoint = section.split(separator: "/").last, section.hasPrefix("tracepoint/syscalls/") {
                programs.append((String(cString: bpf_program__name(current)), String(tracepoint)))
            }
            program = bpf_object__next_program(object.handle, current)
        }
        return programs
    }
}
