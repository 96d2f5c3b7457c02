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
            return pinRoot != nil && TCXLinks.isSupported(probingWith: program)
        case .tcx:
            guard pinRoot != nil, TCXLinks.isSupported(probingWith: program) else {
                throw KernelError("attaching through TCX (needs Linux >= 6.6 and a pin root; tc_attach: auto falls back to clsact) with",
                                  "this kernel", errno: EINVAL)
            }
            return true
        }
    }
}

extension Datapath {
    /// Attaches both programs to a pod interface (replacing an older
    /// podwall's programs in place) and records it in the pinned link map.
    public func attach(_ link: NetworkLink, monotonicNow: UInt64) throws {
        let previous = links.lookup(link.index)
        let qdiscCreated = (previous?.flags ?? 0) & UInt32(PW_LINK_QDISC_CREATED.rawValue) != 0
        var record = pw_link()
        record.attached_ns = previous?.attached_ns ?? monotonicNow
        if usesTCX, let pinRoot = object.pinRoot {
            try TCXLinks.attach(fromPod, ifindex: link.index, interface: link.name, hook: .ingress, pinRoot: pinRoot)
            try TCXLinks.attach(toPod, ifindex: link.index, interface: link.name, hook: .egress, pinRoot: pinRoot)
            // An older podwall's clsact filters go only once the links run:
            // no packet goes unchecked (a few may be counted twice).
            let legacy = try TrafficControl.removeFilters(from: link, qdiscCreatedByPodwall: qdiscCreated)
            record.flags = UInt32(PW_LINK_TCX.rawValue) | (qdiscCreated && !legacy.qdiscRemoved ? UInt32(PW_LINK_QDISC_CREATED.rawValue) : 0)
        } else {
            let created = try TrafficControl.ensureClsact(ifindex: link.index, interface: link.name)
            try TrafficControl.attach(fromPod, ifindex: link.index, interface: link.name, hook: .ingress)
            try TrafficControl.attach(toPod, ifindex: link.index, interface: link.name, hook: .egress)
            if let pinRoot = object.pinRoot { TCXLinks.detach(ifindex: link.index, pinRoot: pinRoot) }
            // Keep "podwall created the qdisc" from the first attach across restarts.
            record.flags = qdiscCreated || created ? UInt32(PW_LINK_QDISC_CREATED.rawValue) : 0
        }
        try links.update(link.index, record)
    }

    /// Forgets a link that went away (its filters went with it; its TCX
    /// links stay pinned, detached, until their pins go).
    public func forget(_ link: NetworkLink) {
        if let pinRoot = object.pinRoot { TCXLinks.detach(ifindex: link.index, pinRoot: pinRoot) }
        _ = try? links.delete(link.index)
    }
}

public enum PodInterfaceAttachment {
    /// The ID of podwall's program on a hook, through TCX or clsact.
    public static func programID(ifindex: UInt32, hook: TCHook) -> UInt32? {
        if let id = TCXLinks.programIDs(ifindex: ifindex, hook: hook).first(where: { ProgramInfo.name(ofID: $0)?.hasPrefix("pw_") == true }) {
            return id
        }
        return TrafficControl.attachedProgramID(ifindex: ifindex, hook: hook)
    }
}
