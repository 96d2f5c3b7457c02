import CPodwallShim
import Glibc
import PodwallABI

/// The two clsact hooks of an interface. On a pod's host-side veth,
/// ingress carries what the pod sends and egress what it receives.
public enum TCHook: String, Sendable, CaseIterable {
    case ingress, egress
}

/// podwall's TC filters: always at PW_TC_HANDLE / PW_TC_PRIORITY, so that an
/// upgrade replaces them atomically and uninstall removes exactly them.
public enum TrafficControl {
    /// Creates the clsact qdisc if missing; returns true when podwall created it.
    public static func ensureClsact(ifindex: UInt32, interface: String) throws -> Bool {
        let result = pw_shim_tc_hook_create(Int32(ifindex))
        if result == -EEXIST { return false }
        try KernelError.check(result, "creating clsact qdisc on", interface)
        return true
    }

    /// Attaches (or atomically replaces) podwall's filter on one hook.
    public static func attach(_ program: BPFProgram, ifindex: UInt32, interface: String, hook: TCHook) throws {
        try KernelError.check(
            pw_shim_tc_attach(Int32(ifindex), hook == .ingress, program.fd, UInt32(PW_TC_HANDLE), UInt32(PW_TC_PRIORITY)),
            "attaching \(program.name) to TC \(hook.rawValue) of", interface)
    }

    /// The program ID in podwall's slot, if any filter sits there.
    public static func attachedProgramID(ifindex: UInt32, hook: TCHook) -> UInt32? {
        var id: UInt32 = 0
        let result = pw_shim_tc_query(Int32(ifindex), hook == .ingress, UInt32(PW_TC_HANDLE), UInt32(PW_TC_PRIORITY), &id)
        return result == 0 ? id : nil
    }

    /// Removes podwall's filter from a hook, but only if the program in that
    /// slot is podwall's (its name starts with `pw_`). Returns whether it did.
    private static func detach(ifindex: UInt32, interface: String, hook: TCHook) throws -> Bool {
        guard let id = attachedProgramID(ifindex: ifindex, hook: hook), ProgramInfo.isPodwalls(id) else {
            return false
        }
        let result = pw_shim_tc_detach(Int32(ifindex), hook == .ingress, UInt32(PW_TC_HANDLE), UInt32(PW_TC_PRIORITY))
        if result == -ENOENT || result == -ENODEV { return false }
        try KernelError.check(result, "detaching TC \(hook.rawValue) filter from", interface)
        return true
    }

    /// Removes podwall's filters from both hooks, then the qdisc when
    /// podwall created it and nothing else uses it.
    public static func removeFilters(from link: NetworkLink, qdiscCreatedByPodwall: Bool) throws -> (hooks: [TCHook], qdiscRemoved: Bool) {
        let hooks = try TCHook.allCases.filter { try detach(ifindex: link.index, interface: link.name, hook: $0) }
        let qdiscRemoved = try qdiscCreatedByPodwall && removeClsactIfEmpty(ifindex: link.index, interface: link.name)
        return (hooks, qdiscRemoved)
    }

    /// Removes the clsact qdisc, but only while no filter is left on it:
    /// a CNI's own filters must survive podwall's uninstall.
    private static func removeClsactIfEmpty(ifindex: UInt32, interface: String) throws -> Bool {
        let remaining = try TCFilterDump.count(ifindex: ifindex)
        guard remaining == 0 else { return false }
        let result = pw_shim_tc_hook_destroy(Int32(ifindex))
        if result == -ENOENT || result == -EINVAL || result == -ENODEV { return false }
        try KernelError.check(result, "removing clsact qdisc from", interface)
        return true
    }
}

public enum ProgramInfo {
    /// Whether a loaded program is one of podwall's: every one is named `pw_…`.
    public static func isPodwalls(_ id: UInt32) -> Bool {
        name(ofID: id)?.hasPrefix("pw_") == true
    }

    /// A loaded program's name (the kernel keeps its first 15 characters).
    public static func name(ofID id: UInt32) -> String? {
        let fd = bpf_prog_get_fd_by_id(id)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return nil }
        return withUnsafeBytes(of: info.name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }
}
