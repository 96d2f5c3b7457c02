import Glibc
import PodwallABI

/// How podwall's programs sit on a pod interface (config key `tc_attach`).
public enum TCAttachMode: String, Sendable, CaseIterable {
    /// TCX links where the kernel has them (Linux >= 6.6), else clsact filters.
    case auto
    /// TCX links; refused on a kernel without TCX.
    case tcx
    /// A clsact qdisc with cls_bpf filters, as on kernels before TCX.
    case clsact

    func usesTCX(pinRoot: String?, probingWith program: BPFProgram) throws -> Bool {
        switch self {
        case .clsact:
            return false
        case .auto:
            // Without a pin root (tests) nothing would hold the links.
            return pinRoot != nil && TCXLinks.unsupportedReason(probingWith: program) == nil
        case .tcx:
            guard pinRoot != nil else {
                throw KernelError("attaching through TCX (tc_attach: tcx) without a pin root for", program.name, errno: EINVAL)
            }
            if let reason = TCXLinks.unsupportedReason(probingWith: program) {
                throw KernelError(
                    "attaching through TCX (tc_attach: tcx needs Linux >= 6.6; auto falls back to clsact) on",
                    "this kernel", errno: reason)
            }
            return true
        }
    }
}

extension Datapath {
    /// Attaches both programs to a pod interface (replacing an older
    /// podwall's programs in place) and records it in the pinned link map.
    public func attach(_ link: NetworkLink, monotonicNow: UInt64) throws {
        let previous = try linkMap.lookup(link.index)
        let qdiscCreated = (previous?.flags ?? 0) & UInt32(PW_LINK_QDISC_CREATED.rawValue) != 0
        // The programs count into the entry: an attach keeps what they counted.
        var record = previous ?? pw_link()
        record.attached_ns = previous?.attached_ns ?? monotonicNow
        if usesTCX, let pinRoot = object.pinRoot {
            do {
                try TCXLinks.attach(fromPod, ifindex: link.index, interface: link.name, hook: .ingress, pinRoot: pinRoot)
                try TCXLinks.attach(toPod, ifindex: link.index, interface: link.name, hook: .egress, pinRoot: pinRoot)
            } catch {
                // A first attach that half failed leaves no link the agent does not know of.
                if previous == nil { TCXLinks.detach(ifindex: link.index, pinRoot: pinRoot) }
                throw error
            }
            // An older podwall's clsact filters go only once the links run:
            // no packet goes unchecked (a few may be counted twice).
            let legacy = try TrafficControl.removeFilters(from: link, qdiscCreatedByPodwall: qdiscCreated)
            record.flags =
                UInt32(PW_LINK_TCX.rawValue) | (qdiscCreated && !legacy.qdiscRemoved ? UInt32(PW_LINK_QDISC_CREATED.rawValue) : 0)
        } else {
            let created = try TrafficControl.ensureClsact(ifindex: link.index, interface: link.name)
            try TrafficControl.attach(fromPod, ifindex: link.index, interface: link.name, hook: .ingress)
            try TrafficControl.attach(toPod, ifindex: link.index, interface: link.name, hook: .egress)
            if let pinRoot = object.pinRoot { TCXLinks.detach(ifindex: link.index, pinRoot: pinRoot) }
            // Keep "podwall created the qdisc" from the first attach across restarts.
            record.flags = qdiscCreated || created ? UInt32(PW_LINK_QDISC_CREATED.rawValue) : 0
        }
        // An update replaces the entry whole: packets counted since `previous`
        // was read would be lost, so the entry is written only when it changes.
        if previous?.flags != record.flags {
            try linkMap.update(link.index, record)
        }
    }

    /// Forgets a link that went away: its record, and the pins of its TCX
    /// links (the kernel detached them, and its filters, with the device).
    public func forget(_ link: NetworkLink) {
        if let pinRoot = object.pinRoot { TCXLinks.detach(ifindex: link.index, pinRoot: pinRoot) }
        _ = try? linkMap.delete(link.index)
    }

    /// Forgets the interfaces that went away while no agent watched (pods
    /// deleted during a restart): their records, and their TCX links, which
    /// would otherwise stay pinned and keep an old program loaded. Returns
    /// how many interfaces were forgotten.
    @discardableResult
    public func forgetVanishedInterfaces(present: Set<UInt32>) -> Int {
        if let pinRoot = object.pinRoot { TCXLinks.detachAll(under: pinRoot, onlyDefunct: true) }
        let vanished = linkMap.keys().filter { !present.contains($0) }
        for index in vanished { _ = try? linkMap.delete(index) }
        return vanished.count
    }
}

public enum PodInterfaceAttachment {
    /// The ID of podwall's program on a hook, through TCX or clsact.
    public static func programID(ifindex: UInt32, hook: TCHook) -> UInt32? {
        if let id = TCXLinks.programIDs(ifindex: ifindex, hook: hook).first(where: ProgramInfo.isPodwalls) {
            return id
        }
        return TrafficControl.attachedProgramID(ifindex: ifindex, hook: hook)
    }

    /// False when another TCX program runs before podwall's on the hook
    /// (attached later in front of it): a program that passes or redirects
    /// a packet there keeps it from podwall.
    public static func runsFirst(ifindex: UInt32, hook: TCHook) -> Bool {
        programInFront(ifindex: ifindex, hook: hook) == nil
    }

    /// The ID of the TCX program that runs first on the hook when it is not podwall's.
    public static func programInFront(ifindex: UInt32, hook: TCHook) -> UInt32? {
        TCXLinks.programIDs(ifindex: ifindex, hook: hook).first.flatMap { ProgramInfo.isPodwalls($0) ? nil : $0 }
    }
}
