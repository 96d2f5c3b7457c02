import CPodwallShim
import Glibc

/// A program attached to a classic tracepoint (`syscalls/sys_exit_dup2`)
/// through libbpf, which needs tracefs to find the tracepoint's id. Kernels
/// from 5.15 make it a BPF link that can be pinned; older ones tie it to
/// this object, which detaches it when released.
public final class TracepointLink: @unchecked Sendable {  // libbpf link handle: only destroyed in deinit
    private let link: OpaquePointer

    public init(_ object: BPFObject, program: String, category: String, name: String) throws {
        Tracefs.mount()
        guard let handle = bpf_object__find_program_by_name(object.handle, program) else {
            throw KernelError("finding program", "\(program) in \(object.name)", errno: ENOENT)
        }
        guard let link = bpf_program__attach_tracepoint(handle, category, name) else {
            throw KernelError("attaching \(program) to the tracepoint", "\(category)/\(name)", errno: Glibc.errno)
        }
        self.link = link
    }

    /// Pins it (replacing an earlier agent's pin); false where the kernel
    /// cannot pin such a link (before 5.15): it then lives as long as this object.
    func pin(at path: String) -> Bool {
        (try? BPFFilesystem.replacePin(at: path) { bpf_link__pin(link, $0) }) != nil
    }

    deinit {
        bpf_link__destroy(link)
    }
}

/// The kernel's tracing filesystem, mounted where it is missing (as bpffs is).
enum Tracefs {
    static let path = "/sys/kernel/tracing"

    static func mount() {
        var info = statfs()
        let tracefsMagic: UInt = 0x7472_6163
        if statfs(path, &info) == 0, UInt(bitPattern: Int(info.f_type)) == tracefsMagic { return }
        _ = Glibc.mount("tracefs", path, "tracefs", 0, nil)
    }
}
