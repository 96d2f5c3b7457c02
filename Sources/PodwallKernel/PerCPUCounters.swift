import CPodwallShim
import PodwallABI

/// The kernel's per-CPU counters (enum pw_counter), summed over CPUs.
public struct PerCPUCounters: Sendable {
    public let fd: Int32
    private let owner: any AnyObject & Sendable

    public init(fd: Int32, owner: any AnyObject & Sendable) {
        self.fd = fd
        self.owner = owner
    }

    public static func pinned(at path: String) throws -> PerCPUCounters {
        let descriptor = try FileDescriptor.openPinned(path)
        return PerCPUCounters(fd: descriptor.fd, owner: descriptor)
    }

    public func value(_ counter: pw_counter) -> UInt64 {
        value(at: counter.rawValue)
    }

    /// The counter at `index`, summed over CPUs.
    public func value(at index: UInt32) -> UInt64 {
        let cpus = Int(libbpf_num_possible_cpus())
        guard cpus > 0 else { return 0 }
        var values = [UInt64](repeating: 0, count: cpus)
        var index = index
        guard bpf_map_lookup_elem(fd, &index, &values) == 0 else { return 0 }
        return values.reduce(0, &+)
    }

    /// Every counter by its metric-style name.
    public func snapshot() -> [(name: String, value: UInt64)] {
        Self.names.map { ($0.1, value($0.0)) }
    }

    public static let names: [(pw_counter, String)] = [
        (PW_CNT_PACKETS, "packets"),
        (PW_CNT_BYTES, "bytes"),
        (PW_CNT_NON_IP, "non_ip"),
        (PW_CNT_PARSE_ERRORS, "parse_errors"),
        (PW_CNT_FRAGMENTS, "fragments"),
        (PW_CNT_FRAGMENTS_UNTRACKED, "fragments_untracked"),
        (PW_CNT_IPV6_EXT_LIMIT, "ipv6_ext_header_limit"),
        (PW_CNT_FLOWS_CREATED, "flows_created"),
        (PW_CNT_FLOW_INSERT_FAILURES, "flow_insert_failures"),
        (PW_CNT_RINGBUF_DROPS, "ringbuf_drops"),
        (PW_CNT_PULLS, "header_pulls"),
        (PW_CNT_DROPS_BLOCKLIST, "drops_blocklist"),
        (PW_CNT_DROPS_QUARANTINE, "drops_quarantine"),
        (PW_CNT_ALLOWLIST_OVERRIDES, "allowlist_overrides"),
        (PW_CNT_SOCK_DENIED, "sock_denied"),
        (PW_CNT_FLOWS_SUMMARIZED, "flows_summarized")
    ]
}
