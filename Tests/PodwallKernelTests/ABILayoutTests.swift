import CPodwallShim
import Foundation
import PodwallABI
import PodwallBPFObjects
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Testing

/// The Swift view of the ABI header must match what clang compiled into the
/// BPF object: same struct sizes, same field offsets (read from its BTF).
@Suite struct ABILayoutTests {
    struct Field {
        let name: String
        let offset: Int
    }

    static func fields<T>(_ type: T.Type, _ pairs: [(String, PartialKeyPath<T>)]) -> (Int, [Field]) {
        (MemoryLayout<T>.size, pairs.map { Field(name: $0.0, offset: MemoryLayout<T>.offset(of: $0.1)!) })
    }

    static let swiftLayouts: [String: (Int, [Field])] = [
        "pw_flow_key": fields(
            pw_flow_key.self,
            [
                ("pod_addr", \.pod_addr), ("remote_addr", \.remote_addr), ("ifindex", \.ifindex), ("pod_port", \.pod_port),
                ("remote_port", \.remote_port), ("proto", \.proto), ("family", \.family), ("pad", \.pad)
            ]),
        "pw_flow_direction": fields(
            pw_flow_direction.self,
            [
                ("packets", \.packets), ("bytes", \.bytes), ("tcp_flags", \.tcp_flags), ("payload_len", \.payload_len),
                ("payload_seq", \.payload_seq), ("pad", \.pad), ("payload", \.payload)
            ]),
        "pw_flow_value": fields(
            pw_flow_value.self,
            [
                ("first_seen_ns", \.first_seen_ns), ("last_seen_ns", \.last_seen_ns), ("flags", \.flags),
                ("policy_generation", \.policy_generation), ("dropped_packets", \.dropped_packets),
                ("last_drop_event_ns", \.last_drop_event_ns), ("dir", \.dir)
            ]),
        "pw_frag_key": fields(pw_frag_key.self, [("src", \.src), ("dst", \.dst), ("id", \.id), ("proto", \.proto), ("pad", \.pad)]),
        "pw_frag_ports": fields(pw_frag_ports.self, [("sport", \.sport), ("dport", \.dport)]),
        "pw_link": fields(
            pw_link.self,
            [
                ("flags", \.flags), ("pad", \.pad), ("attached_ns", \.attached_ns), ("drops", \.drops), ("packets", \.packets),
                ("bytes", \.bytes), ("event_tat_ns", \.event_tat_ns), ("summary", \.summary),
                ("ring_drops", \.ring_drops)
            ]),
        "pw_flow_summary": fields(
            pw_flow_summary.self,
            [
                ("interval_start_ns", \.interval_start_ns), ("new_flows", \.new_flows), ("pod_initiated", \.pod_initiated),
                ("tcp_syns", \.tcp_syns),
                ("replies", \.replies), ("drop_events", \.drop_events), ("bytes", \.bytes), ("remote_ports", \.remote_ports),
                ("remote_hosts", \.remote_hosts)
            ]),
        "pw_flow_summary_event": fields(
            pw_flow_summary_event.self, [("header", \.header), ("ifindex", \.ifindex), ("pad", \.pad), ("summary", \.summary)]),
        "pw_addr_key": fields(pw_addr_key.self, [("addr", \.addr)]),
        "pw_lpm_key": fields(pw_lpm_key.self, [("prefixlen", \.prefixlen), ("addr", \.addr)]),
        "pw_block_entry": fields(pw_block_entry.self, [("feeds", \.feeds), ("expires_ns", \.expires_ns), ("hits", \.hits)]),
        "pw_feed": fields(pw_feed.self, [("name", \.name), ("updated_ns", \.updated_ns), ("entries", \.entries), ("in_use", \.in_use)]),
        "pw_quarantine": fields(pw_quarantine.self, [("since_ns", \.since_ns), ("expires_ns", \.expires_ns), ("drops", \.drops)]),
        "pw_config": fields(
            pw_config.self,
            [
                ("policy_generation", \.policy_generation), ("pod_events_per_second", \.pod_events_per_second),
                ("pod_event_burst", \.pod_event_burst), ("pad", \.pad)
            ]),
        "pw_capture_filter": fields(
            pw_capture_filter.self,
            [
                ("pod_net", \.pod_net), ("pod_mask", \.pod_mask), ("remote_net", \.remote_net), ("remote_mask", \.remote_mask),
                ("ifindex", \.ifindex), ("pod_port", \.pod_port), ("remote_port", \.remote_port), ("proto", \.proto), ("pad", \.pad)
            ]),
        "pw_capture": fields(
            pw_capture.self,
            [
                ("filter", \.filter), ("id", \.id), ("expires_ns", \.expires_ns), ("max_packets", \.max_packets),
                ("snaplen", \.snaplen), ("owner_pid", \.owner_pid), ("matched", \.matched), ("captured", \.captured),
                ("captured_bytes", \.captured_bytes), ("skipped", \.skipped), ("lost", \.lost)
            ]),
        "pw_capture_on": fields(pw_capture_on.self, [("slots", \.slots), ("pad", \.pad)]),
        "pw_packet_record": fields(
            pw_packet_record.self,
            [
                ("header", \.header), ("capture_id", \.capture_id), ("ifindex", \.ifindex), ("orig_len", \.orig_len),
                ("cap_len", \.cap_len), ("direction", \.direction), ("pad", \.pad)
            ]),
        "pw_deny_limit_key": fields(pw_deny_limit_key.self, [("tgid", \.tgid), ("port", \.port), ("pad", \.pad), ("addr", \.addr)]),
        "pw_drop_event": fields(
            pw_drop_event.self,
            [
                ("header", \.header), ("key", \.key), ("direction", \.direction), ("reason", \.reason), ("pad", \.pad),
                ("matched_prefixlen", \.matched_prefixlen), ("uid", \.uid), ("matched_addr", \.matched_addr),
                ("pid_tgid", \.pid_tgid), ("cgroup_id", \.cgroup_id), ("comm", \.comm)
            ]),
        "pw_event_header": fields(
            pw_event_header.self,
            [
                ("type", \.type), ("size", \.size), ("pad", \.pad), ("timestamp_ns", \.timestamp_ns)
            ]),
        "pw_flow_event": fields(
            pw_flow_event.self,
            [
                ("header", \.header), ("key", \.key), ("direction", \.direction), ("end_reason", \.end_reason), ("pad", \.pad),
                ("value", \.value)
            ]),
        "pw_connect_event": fields(
            pw_connect_event.self,
            [
                ("header", \.header), ("key", \.key), ("pid_tgid", \.pid_tgid), ("cgroup_id", \.cgroup_id), ("uid", \.uid),
                ("pad", \.pad), ("comm", \.comm)
            ]),
        "pw_process_config": fields(
            pw_process_config.self,
            [
                ("pods_cgroup_id", \.pods_cgroup_id), ("pods_cgroup_level", \.pods_cgroup_level), ("policy", \.policy),
                ("host_mnt_ns", \.host_mnt_ns), ("agent_mnt_ns", \.agent_mnt_ns)
            ]),
        "pw_exec_name_key": fields(pw_exec_name_key.self, [("comm", \.comm)]),
        "pw_stdio_fd": fields(
            pw_stdio_fd.self,
            [
                ("kind", \.kind), ("family", \.family), ("protocol", \.protocol), ("sock_type", \.sock_type),
                ("local_port", \.local_port), ("remote_port", \.remote_port), ("inode", \.inode), ("peer_inode", \.peer_inode),
                ("local_addr", \.local_addr), ("remote_addr", \.remote_addr)
            ]),
        "pw_process_id": fields(
            pw_process_id.self,
            [
                ("pid", \.pid), ("tgid", \.tgid), ("ns_pid", \.ns_pid), ("ppid", \.ppid), ("cgroup_id", \.cgroup_id),
                ("start_ns", \.start_ns)
            ]),
        "pw_exec_event": fields(
            pw_exec_event.self,
            [
                ("header", \.header), ("process", \.process), ("uid", \.uid), ("euid", \.euid), ("flags", \.flags),
                ("exec_class", \.exec_class), ("args_len", \.args_len), ("pad", \.pad), ("comm", \.comm), ("stdio", \.stdio),
                ("filename", \.filename), ("interpreter", \.interpreter), ("args", \.args), ("relay", \.relay),
                ("written", \.written)
            ]),
        "pw_relay_connection": fields(
            pw_relay_connection.self,
            [
                ("connect_ns", \.connect_ns), ("start_ns", \.start_ns), ("tgid", \.tgid), ("remote_port", \.remote_port),
                ("pad", \.pad), ("remote_addr", \.remote_addr), ("comm", \.comm)
            ]),
        "pw_inode_key": fields(pw_inode_key.self, [("inode", \.inode), ("dev", \.dev), ("pad", \.pad)]),
        "pw_relay_pipe": fields(
            pw_relay_pipe.self,
            [
                ("shell_reads_ns", \.shell_reads_ns), ("shell_writes_ns", \.shell_writes_ns), ("relay_reads_ns", \.relay_reads_ns),
                ("relay_writes_ns", \.relay_writes_ns), ("shell_tgid", \.shell_tgid), ("relay_tgid", \.relay_tgid)
            ]),
        "pw_relay_connect_event": fields(
            pw_relay_connect_event.self,
            [
                ("header", \.header), ("process", \.process), ("connection", \.connection), ("shell_tgid", \.shell_tgid),
                ("flags", \.flags), ("uid", \.uid), ("pad", \.pad)
            ]),
        "pw_stdio_socket_event": fields(
            pw_stdio_socket_event.self,
            [
                ("header", \.header), ("process", \.process), ("fd", \.fd), ("flags", \.flags), ("exec_class", \.exec_class),
                ("uid", \.uid), ("comm", \.comm), ("socket", \.socket)
            ]),
        "pw_written_file": fields(
            pw_written_file.self,
            [("written_ns", \.written_ns), ("tgid", \.tgid), ("pad", \.pad), ("cgroup_id", \.cgroup_id), ("comm", \.comm)]),
        "pw_script_exec": fields(pw_script_exec.self, [("start_ns", \.start_ns), ("name", \.name)]),
        "pw_file_rule": fields(pw_file_rule.self, [("flags", \.flags), ("id", \.id)]),
        "pw_path_key": fields(pw_path_key.self, [("prefixlen", \.prefixlen), ("path", \.path)]),
        "pw_file_name_key": fields(pw_file_name_key.self, [("name", \.name)]),
        "pw_file_event": fields(
            pw_file_event.self,
            [
                ("header", \.header), ("process", \.process), ("uid", \.uid), ("op", \.op), ("pad", \.pad), ("flags", \.flags),
                ("rule_flags", \.rule_flags), ("rule_id", \.rule_id), ("mode", \.mode), ("inode", \.inode), ("comm", \.comm),
                ("path", \.path), ("target", \.target)
            ]),
        "pw_breakout_event": fields(
            pw_breakout_event.self,
            [
                ("header", \.header), ("process", \.process), ("uid", \.uid), ("op", \.op), ("flags", \.flags),
                ("target_pid", \.target_pid), ("arg", \.arg), ("comm", \.comm), ("detail", \.detail), ("path", \.path)
            ]),
        "pw_fork_event": fields(pw_fork_event.self, [("header", \.header), ("process", \.process), ("comm", \.comm)]),
        "pw_exit_event": fields(
            pw_exit_event.self,
            [("header", \.header), ("process", \.process), ("exit_code", \.exit_code), ("pad", \.pad), ("comm", \.comm)])
    ]

    /// Struct name → (size, fields) as the compiled object's BTF has them.
    static func btfLayouts(_ image: BPFObjectImage) throws -> [String: (Int, [Field])] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podwall-abi-\(getpid())-\(image.name)").path
        try Data(image.bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let btf = btf__parse_elf(path, nil) else { throw KernelError("parsing BTF of", path, errno: errno) }
        defer { btf__free(btf) }
        var layouts: [String: (Int, [Field])] = [:]
        for name in swiftLayouts.keys {
            let id = btf__find_by_name_kind(btf, name, UInt32(BTF_KIND_STRUCT))
            guard id > 0, let type = btf__type_by_id(btf, UInt32(id)) else { continue }
            let members = btf_members(type)!
            let fields = (0..<Int(btf_vlen(type))).map { index in
                Field(
                    name: String(cString: btf__name_by_offset(btf, members[index].name_off)),
                    offset: Int(btf_member_bit_offset(type, UInt32(index)) / 8))
            }
            layouts[name] = (Int(type.pointee.size), fields)
        }
        return layouts
    }

    /// Each struct must be in some object's BTF, identical wherever it is.
    @Test func swiftLayoutMatchesCompiledBTF() throws {
        let perObject = try [BPFObjectImage.tc, .tcCompat, .sock, .process, .file].map(Self.btfLayouts)
        let compiled = perObject.reduce(into: [String: (Int, [Field])]()) { merged, layouts in
            merged.merge(layouts) { first, _ in first }
        }
        for layouts in perObject {
            for (name, layout) in layouts {
                #expect(
                    compiled[name]!.0 == layout.0 && compiled[name]!.1.map(\.offset) == layout.1.map(\.offset),
                    "\(name) differs between objects")
            }
        }
        for (name, (size, fields)) in Self.swiftLayouts.sorted(by: { $0.key < $1.key }) {
            let btf = try #require(compiled[name], "struct \(name) is missing from the BPF object's BTF")
            #expect(btf.0 == size, "\(name): BTF size \(btf.0), Swift size \(size)")
            #expect(btf.1.map(\.name) == fields.map(\.name), "\(name): field names or order differ")
            for (compiledField, swiftField) in zip(btf.1, fields) {
                #expect(
                    compiledField.offset == swiftField.offset,
                    "\(name).\(swiftField.name): BTF offset \(compiledField.offset), Swift \(swiftField.offset)")
            }
        }
    }

    @Test func theModelsPayloadHoldsTheKernelsSnapshot() {
        #expect(PayloadPrefix.capacity == Int(PW_PAYLOAD_SNAP), "a larger snapshot would be cut short when decoded")
    }

    @Test func everyProcessCounterHasAName() {
        #expect(ProcessCounters.names.count == Int(PW_PCNT_MAX.rawValue))
    }

    @Test func everyCounterHasAName() {
        #expect(PerCPUCounters.names.count == Int(PW_CNT_MAX.rawValue))
        #expect(PerCPUCounters.names.enumerated().allSatisfy { $0.offset == Int($0.element.0.rawValue) })
    }
}

@Suite(.enabled(if: Privileged.enabled, Privileged.reason))
struct ObjectLoadTests {
    // The tests that only read a loaded data path read the test-run suite's
    // one load (each load is half a minute on the matrix's emulated 5.10).

    @Test func everyMapNamedInTheABIExistsInTheObject() throws {
        let (datapath, _) = try DatapathTestRunTests.loaded.get()
        let names = Set(datapath.object.mapNames)
        let all = [
            PW_MAP_FLOWS_NAME, PW_MAP_FRAGS_NAME, PW_MAP_COUNTERS_NAME, PW_MAP_EVENTS_NAME, PW_MAP_LINKS_NAME,
            PW_MAP_BLOCK_HOSTS_NAME, PW_MAP_BLOCK_NETS_NAME, PW_MAP_ALLOW_NETS_NAME, PW_MAP_QUARANTINE_NAME,
            PW_MAP_FEEDS_NAME, PW_MAP_DENY_LIMIT_NAME, PW_MAP_CONFIG_NAME, PW_MAP_CAPTURES_NAME,
            PW_MAP_CAPTURE_RINGS_NAME, PW_MAP_CAPTURE_ON_NAME, PW_MAP_CAPTURE_BUF_NAME, PW_MAP_CLOCK_NAME
        ]
        for name in all {
            #expect(names.contains(name), "map \(name) from podwall_abi.h is not in the object")
        }
        #expect(datapath.sockObject.mapNames.contains(PW_MAP_CONNECT_LIMIT_NAME), "the socket hooks' own map")
    }

    @Test func everyProcessMapNamedInTheABIExistsInTheProcessObject() throws {
        let monitor = try ProcessMonitor(pinRoot: nil)
        let names = Set(monitor.object.mapNames)
        for name in [
            PW_MAP_PROCESS_EVENTS_NAME, PW_MAP_PROCESS_CONFIG_NAME, PW_MAP_PROCESS_COUNTERS_NAME, PW_MAP_EXEC_NAMES_NAME,
            PW_MAP_WRITTEN_FILES_NAME, PW_MAP_SCRIPT_EXECS_NAME, PW_MAP_SCRIPTS_OPEN_NAME
        ] {
            #expect(names.contains(name), "map \(name) from podwall_abi.h is not in the process object")
        }
    }

    /// Where the kernel lacks atomic fetch (Linux 5.10 in the kernel matrix),
    /// the data path loads its compat build, and the full build is refused
    /// with the verifier's own words in one sentence (and no crash).
    @Test(.enabled(if: !KernelFeatures.probe().atomicFetch, "this kernel has atomic fetch: only a pre-5.12 kernel refuses the full build"))
    func aKernelWithoutAtomicFetchLoadsTheCompatBuildAndRefusesTheFullOne() throws {
        LibbpfLog.capture(echo: false)
        let (datapath, _) = try DatapathTestRunTests.loaded.get()
        #expect(datapath.features.datapathImage.name == BPFObjectImage.tcCompat.name)
        let error = try #require(throws: KernelError.self) { try BPFObject(image: .tc, pinRoot: nil) }
        #expect(error.description.contains("the verifier refused pw_"), "\(error)")
        #expect(!error.description.contains("\n"), "\(error)")
    }

    @Test func theVerifiersComplaintIsTheLastLineOfItsLog() {
        let log = """
            libbpf: prog 'pw_from_pod': BPF program load failed: Invalid argument
            libbpf: prog 'pw_from_pod': -- BEGIN PROG LOAD LOG --
            51: *value += amount;
            back-edge from insn 51 to 52
            processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
            -- END PROG LOAD LOG --
            libbpf: prog 'pw_from_pod': failed to load: -22
            libbpf: failed to load object 'tc.bpf.o'
            """
        let error = KernelError("loading BPF object", "tc.bpf.o", errno: EINVAL, libbpfLog: log)
        #expect(
            error.description
                == "loading BPF object tc.bpf.o failed: the verifier refused pw_from_pod: back-edge from insn 51 to 52 (EINVAL); run with --debug to see the verifier's log"
        )
        #expect(KernelError("loading BPF object", "tc.bpf.o", errno: EPERM).verifierComplaint == nil)
    }

    @Test func flowTableSizeComesFromOptions() throws {
        let (datapath, _) = try DatapathTestRunTests.loaded.get()  // loaded with flowEntries 4096
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        #expect(bpf_obj_get_info_by_fd(datapath.flowMap.fd, &info, &length) == 0)
        #expect(info.max_entries == 4096)
    }
}
