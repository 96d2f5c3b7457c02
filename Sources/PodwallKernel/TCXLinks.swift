import CPodwallShim
import Glibc

extension TCHook {
    var tcxAttachType: bpf_attach_type {
        bpf_attach_type(rawValue: UInt32(self == .ingress ? PW_BPF_TCX_INGRESS : PW_BPF_TCX_EGRESS))
    }
}

/// TCX (Linux >= 6.6): one BPF link per hook instead of a clsact qdisc and a
/// cls_bpf filter. A packet skips the classifier walk (about 1.5 % of a
/// 64-byte UDP packet's CPU time on the benchmark VM, see BENCHMARKS.md),
/// podwall's program runs before any other TCX program and any clsact
/// filter of the interface, and the links are pinned next to the maps so
/// that, like the cgroup links, they outlive the agent.
public enum TCXLinks {
    static let pinPrefix = "link_tcx_"

    /// Whether this kernel has TCX: nil if it does, else the errno that
    /// says why not. A link to ifindex 0 cannot succeed: it fails with
    /// ENODEV where TCX exists and EINVAL where the attach type is unknown
    /// (or EPERM, without the privileges). `program` must be a TC program.
    public static func unsupportedReason(probingWith program: BPFProgram) -> Int32? {
        let result = pw_shim_tcx_attach(0, true, program.fd)
        if result >= 0 { close(result) }
        return result == -ENODEV ? nil : (result >= 0 ? EINVAL : -result)
    }

    static func pinPath(_ pinRoot: String, ifindex: UInt32, hook: TCHook) -> String {
        "\(pinRoot)/\(pinPrefix)\(ifindex)_\(hook.rawValue)"
    }

    /// Attaches `program` to one hook of an interface, or swaps it into the
    /// link already pinned there (a restarted or upgraded agent): the swap
    /// is atomic, so no packet goes unchecked.
    public static func attach(_ program: BPFProgram, ifindex: UInt32, interface: String, hook: TCHook, pinRoot: String) throws {
        let pin = pinPath(pinRoot, ifindex: ifindex, hook: hook)
        if let link = try? FileDescriptor.openPinned(pin) {
            if interfaceIndex(ofLink: link.fd) == ifindex {
                try KernelError.check(bpf_link_update(link.fd, program.fd, nil), "updating the TCX \(hook.rawValue) link of", interface)
                return
            }
            // The pin outlived its interface, and the ifindex went to a new one.
            detach(pin: pin)
        }
        let link = pw_shim_tcx_attach(Int32(ifindex), hook == .ingress, program.fd)
        try KernelError.check(link, "attaching \(program.name) to TCX \(hook.rawValue) of", interface)
        defer { close(link) }
        try KernelError.check(bpf_obj_pin(link, pin), "pinning TCX link", pin)
    }

    /// Detaches and unpins an interface's links. Returns the hooks that had one.
    @discardableResult
    public static func detach(ifindex: UInt32, pinRoot: String) -> [TCHook] {
        TCHook.allCases.filter { detach(pin: pinPath(pinRoot, ifindex: ifindex, hook: $0)) }
    }

    /// Detaches and unpins the links pinned under `pinRoot` (only those of
    /// interfaces that are gone, with `onlyDefunct`). Returns the interface
    /// each held (nil if it was gone) and its hook.
    @discardableResult
    public static func detachAll(under pinRoot: String, onlyDefunct: Bool = false) -> [(ifindex: UInt32?, hook: TCHook)] {
        BPFFilesystem.pinNames(under: pinRoot).compactMap { name in
            guard name.hasPrefix(pinPrefix), let hook = TCHook.allCases.first(where: { name.hasSuffix("_" + $0.rawValue) }),
                let link = try? FileDescriptor.openPinned(pinRoot + "/" + name)
            else { return nil }
            let ifindex = interfaceIndex(ofLink: link.fd)
            guard !onlyDefunct || ifindex == nil else { return nil }
            return detach(pin: pinRoot + "/" + name) ? (ifindex, hook) : nil
        }
    }

    /// Detaching explicitly takes effect now; dropping the last reference
    /// (the pin) frees the link from a work queue a moment later, and
    /// attaching the same program again before that fails with EEXIST.
    @discardableResult
    private static func detach(pin: String) -> Bool {
        guard let link = try? FileDescriptor.openPinned(pin) else { return false }
        _ = bpf_link_detach(link.fd)
        return unlink(pin) == 0
    }

    /// The interface a TCX link is attached to: nil for another kind of
    /// link, or once the interface is gone.
    static func interfaceIndex(ofLink fd: Int32) -> UInt32? {
        var info = bpf_link_info()
        var length = UInt32(MemoryLayout<bpf_link_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0, info.type == UInt32(PW_BPF_LINK_TYPE_TCX) else { return nil }
        // tcx.ifindex (uapi >= 6.6, not in Debian 12's headers) is the
        // union's first field, at the same offset as xdp.ifindex.
        return info.xdp.ifindex == 0 ? nil : info.xdp.ifindex
    }

    /// The programs on a TCX hook, in the order they run.
    public static func programIDs(ifindex: UInt32, hook: TCHook) -> [UInt32] {
        var ids = [UInt32](repeating: 0, count: 64)
        var count = UInt32(ids.count)
        guard bpf_prog_query(Int32(ifindex), hook.tcxAttachType, 0, nil, &ids, &count) == 0 else { return [] }
        return Array(ids.prefix(Int(count)))
    }
}
