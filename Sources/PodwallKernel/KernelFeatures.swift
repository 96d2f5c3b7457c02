import CPodwallShim
import Foundation
import Glibc
import PodwallBPFObjects

/// What the running kernel offers podwall, probed once at start, so that a
/// kernel without a feature gets a fallback and one sentence, not a load
/// failure. `podwall status` lists them; the agent logs every fallback.
public struct KernelFeatures: Sendable {
    public enum State: String, Sendable {
        case available
        case fallback
        case missing
    }

    public struct Feature: Sendable {
        public let name: String
        public let state: State
        /// What podwall does with it, or without it.
        public let effect: String
    }

    /// `uname -r`.
    public let release: String
    /// BPF ring buffers (Linux 5.8): every event goes through one.
    public let ringBuffer: Bool
    /// Atomic fetch-and-or, fetch-and-add and cmpxchg in BPF (Linux 5.12).
    public let atomicFetch: Bool
    /// cgroup connect/sendmsg hooks (Linux 4.17).
    public let cgroupSockAddr: Bool
    /// The kernel's own BTF, for CO-RE (`/sys/kernel/btf/vmlinux`).
    public let btf: Bool

    public static func probe() -> KernelFeatures {
        KernelFeatures(
            release: kernelRelease(),
            ringBuffer: libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nil) == 1,
            atomicFetch: pw_shim_probe_atomic_fetch() == 0,
            cgroupSockAddr: libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, nil) == 1,
            btf: FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux"))
    }

    /// In-kernel packet capture: the full build only (bpf/lib/compat.h).
    public var capture: Bool { atomicFetch }

    /// A TCP direction's snapshot is the segment at ISN + 1 (the full build);
    /// the compat build keeps the first payload it sees instead.
    public var sequenceSnapshot: Bool { atomicFetch }

    /// A SYN on an ended flow opens a new flow (the full build); the compat
    /// build accounts it to the ended one.
    public var reopensEndedFlows: Bool { atomicFetch }
    /// The data path sends a volume event per MiB a pod sends (the compat
    /// build does not: exfiltration is judged from table reads alone).
    public var volumeEvents: Bool { atomicFetch }

    /// The programs count each attached interface's packets and bytes in its
    /// link entry (the full build); the compat build does not.
    public var linkCounts: Bool { atomicFetch }

    /// Throws the one sentence for a capture asked of a kernel without it.
    public func checkCapture() throws {
        guard capture else {
            throw KernelError(
                "capturing packets in the kernel (Linux >= 5.12; this kernel loads the compat data path) on",
                "this kernel (\(release))", errno: EOPNOTSUPP)
        }
    }

    /// The build of the TC data path this kernel loads: the one with atomic
    /// fetch instructions where they exist, else the compat build
    /// (bpf/lib/compat.h says what it gives up).
    public var datapathImage: BPFObjectImage {
        atomicFetch ? .tc : .tcCompat
    }

    /// Throws the one sentence that says why podwall cannot run here.
    public func checkRequired() throws {
        guard ringBuffer else {
            throw KernelError("using BPF ring buffers (Linux >= 5.8) on", "this kernel (\(release))", errno: EOPNOTSUPP)
        }
    }

    /// Every feature with its state, TCX as the data path decided it.
    public func report(usesTCX: Bool?) -> [Feature] {
        var features = [
            Feature(
                name: "ring buffer", state: ringBuffer ? .available : .missing,
                effect: ringBuffer ? "flow, drop and capture events" : "podwall cannot run: it needs Linux >= 5.8"),
            Feature(
                name: "atomic fetch", state: atomicFetch ? .available : .fallback,
                effect: atomicFetch
                    ? "once-per-flow events claimed atomically"
                    : "Linux < 5.12: the compat data path; a flow's once-only event may rarely repeat when two CPUs race, "
                        + "a TCP direction's first payload seen is judged, not the segment at ISN + 1, "
                        + "and a new connection on an ended flow's ports is accounted to that flow"),
            Feature(
                name: "packet capture", state: capture ? .available : .missing,
                effect: capture
                    ? "alert pcaps and podwall capture, filtered in the kernel"
                    : "Linux < 5.12: no alert pcaps, podwall capture refuses; alerts and enforcement are unchanged"),
            Feature(
                name: "per-interface counts", state: linkCounts ? .available : .missing,
                effect: linkCounts
                    ? "packets, bytes and lost events per pod interface, and each pod's event budget, in the kernel"
                    : "Linux < 5.12: no per-interface packets, bytes or lost events, and no per-pod event budget (a flooding pod can fill the ring)"
            ),
            Feature(
                name: "cgroup socket hooks", state: cgroupSockAddr ? .available : .missing,
                effect: cgroupSockAddr
                    ? "connect/sendmsg to blocked addresses denied with EPERM"
                    : "blocked addresses are dropped at TC only; the process is not named"),
            Feature(
                name: "kernel BTF", state: btf ? .available : .missing,
                effect: btf ? "/sys/kernel/btf/vmlinux" : "no /sys/kernel/btf/vmlinux; the data path does not need it")
        ]
        if let usesTCX {
            features.append(
                Feature(
                    name: "TCX links", state: usesTCX ? .available : .fallback,
                    effect: usesTCX
                        ? "podwall's programs run first on each pod veth"
                        : "clsact qdisc and cls_bpf filters (TCX needs Linux >= 6.6, or tc_attach: clsact)"))
        }
        return features
    }

    private static func kernelRelease() -> String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
