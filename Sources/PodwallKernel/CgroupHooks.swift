import CPodwallShim
import Glibc

/// The cgroup socket hooks, attached through BPF links pinned next to the
/// maps: they outlive the agent, a restarted agent swaps the program in the
/// link atomically (no moment without enforcement), and removing the pin
/// (`podwall uninstall`) detaches them.
public enum CgroupHooks {
    public struct Hook: Sendable {
        public let program: String
        public let attachType: bpf_attach_type
        public var pinName: String { "link_" + program }
    }

    public static let hooks: [Hook] = [
        Hook(program: "pw_connect4", attachType: BPF_CGROUP_INET4_CONNECT),
        Hook(program: "pw_connect6", attachType: BPF_CGROUP_INET6_CONNECT),
        Hook(program: "pw_sendmsg4", attachType: BPF_CGROUP_UDP4_SENDMSG),
        Hook(program: "pw_sendmsg6", attachType: BPF_CGROUP_UDP6_SENDMSG)
    ]

    /// Attaches (or updates in place) every hook on `cgroupPath`.
    public static func attach(_ object: BPFObject, cgroupPath: String, pinRoot: String) throws {
        let cgroup = open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else { throw KernelError("opening cgroup", cgroupPath, errno: Glibc.errno) }
        defer { close(cgroup) }
        for hook in hooks {
            let program = try object.program(named: hook.program)
            let pin = pinRoot + "/" + hook.pinName
            if let link = try? FileDescriptor.openPinned(pin) {
                try KernelError.check(bpf_link_update(link.fd, program.fd, nil), "updating cgroup link", pin)
                continue
            }
            let link = bpf_link_create(program.fd, cgroup, hook.attachType, nil)
            try KernelError.check(link, "attaching \(hook.program) to cgroup", cgroupPath)
            defer { close(link) }
            try KernelError.check(bpf_obj_pin(link, pin), "pinning cgroup link", pin)
        }
    }

    /// The cgroup v2 mount point, from /proc/self/mountinfo (it is
    /// /sys/fs/cgroup on most nodes, /sys/fs/cgroup/unified on hybrid ones).
    public static func cgroup2Mount() -> String? {
        guard let file = fopen("/proc/self/mountinfo", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).split(separator: " ")
            // mount point is field 5; the filesystem type follows the "-" separator.
            if let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2" {
                return String(fields[4])
            }
        }
        return nil
    }

    /// The pods' cgroup on a Kubernetes node (kubepods.slice with systemd,
    /// kubepods with cgroupfs), if this is one.
    public static func detectPodCgroup() -> String? {
        guard let root = cgroup2Mount() else { return nil }
        return ["kubepods.slice", "kubepods"].map { root + "/" + $0 }.first { access($0, F_OK) == 0 }
    }
}
