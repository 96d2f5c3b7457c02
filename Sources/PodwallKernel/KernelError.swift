import CPodwallShim
import Glibc

/// A failed kernel operation, told in one sentence: what was being done, on
/// what, the errno, and what the user can do about it.
public struct KernelError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let object: String
    public let errno: Int32
    /// libbpf's own messages for this failure, shown only with --debug.
    public let libbpfLog: String
    /// The verifier's last word, when it refused a program.
    public let verifierComplaint: String?

    public init(_ operation: String, _ object: String, errno: Int32, libbpfLog: String = "") {
        self.operation = operation
        self.object = object
        self.errno = abs(errno)
        self.libbpfLog = libbpfLog
        verifierComplaint = Self.verifierComplaint(in: libbpfLog)
    }

    /// The program the verifier refused and its complaint: the last line of
    /// its load log before the statistics. (The captured log keeps the most
    /// recent messages, so the log's end is there even when its start is not.)
    static func verifierComplaint(in log: String) -> String? {
        let lines = log.split(separator: "\n")
        guard let end = lines.lastIndex(where: { $0.contains("-- END PROG LOAD LOG --") }) else { return nil }
        // libbpf: "prog 'pw_from_pod': failed to load: -22", after the log.
        let program =
            lines[end...].first { $0.contains("failed to load") }
            .flatMap { $0.split(separator: "'").dropFirst().first }.map(String.init) ?? "a program"
        let statistics = ["processed ", "verification time", "stack depth", "max_states", "libbpf:"]
        return lines[..<end].last { line in !statistics.contains { line.hasPrefix($0) } }
            .map { "the verifier refused \(program): \($0.trimmingCharacters())" }
    }

    /// For libbpf calls that return -errno (or set errno and return -1).
    static func check(_ result: Int32, _ operation: String, _ object: String) throws {
        guard result < 0 else { return }
        let code = result == -1 ? Glibc.errno : -result
        throw KernelError(operation, object, errno: code, libbpfLog: LibbpfLog.take())
    }

    public var errnoName: String {
        switch errno {
        case EPERM: "EPERM"
        case EACCES: "EACCES"
        case ENOENT: "ENOENT"
        case EEXIST: "EEXIST"
        case EINVAL: "EINVAL"
        case ENOMEM: "ENOMEM"
        case E2BIG: "E2BIG"
        case ENODEV: "ENODEV"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case 524: "ENOTSUPP"
        case EBUSY: "EBUSY"
        default: "errno \(errno)"
        }
    }

    public var hint: String? {
        if verifierComplaint != nil {
            return "run with --debug to see the verifier's log"
        }
        return switch errno {
        case EPERM, EACCES:
            "podwall needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON"
        case ENOENT where operation.contains("pinned"):
            "nothing is pinned there; is the agent installed (podwall run) and bpffs mounted?"
        case EOPNOTSUPP, 524, ENOSYS:
            "this kernel lacks the feature; podwall needs Linux >= 5.10"
        case ENODEV:
            "the interface is gone"
        case EINVAL where operation.contains("load"):
            "the kernel rejected it; run with --debug to see the verifier's log"
        default:
            nil
        }
    }

    public var description: String {
        let reason = errno == 524 ? "not supported" : String(cString: strerror(errno))
        var text = "\(operation) \(object) failed: \(verifierComplaint ?? reason) (\(errnoName))"
        if let hint { text += "; \(hint)" }
        return text
    }
}

/// libbpf's messages, captured instead of printed (see the C shim).
public enum LibbpfLog {
    /// Call once at start; `echo` prints libbpf's messages as they come (--debug).
    public static func capture(echo: Bool) {
        pw_shim_capture_libbpf_log(echo)
    }

    static func take() -> String {
        var buffer = [CChar](repeating: 0, count: 16384)
        let count = pw_shim_take_libbpf_log(&buffer, buffer.count)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
