import CPodwallShim
import PodwallABI
import PodwallBPFObjects
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Testing

/// Fail closed: a quarantined pod's packet is dropped even when the flow
/// table cannot take its flow, and the failure is counted.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct FullFlowTableTestRunTests {
    let datapath: Datapath
    let programs: OneFlowTablePrograms

    /// Loaded once, as DatapathTestRunTests does, and put back for each test.
    static let loaded = Result {
        LibbpfLog.capture(echo: false)
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096))
        return (datapath, try OneFlowTablePrograms(sharingWith: datapath), try datapath.snapshot())
    }

    init() throws {
        let (loaded, programs, snapshot) = try Self.loaded.get()
        datapath = try loaded.restored(to: snapshot)
        try programs.emptyFlowTable()
        self.programs = programs
    }

    func send(_ packet: [UInt8], expect verdict: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try ProgramTestRun.run(programFD: programs.fromPodFD, named: PW_PROG_FROM_POD_NAME, packet: packet)
        #expect(result.returnValue == verdict, "verdict", sourceLocation: sourceLocation)
    }

    func udp(to destination: String) -> [UInt8] {
        DatapathTestRunTests.udp(to: PacketBuilder.v4(destination))
    }

    @Test func aQuarantinedPodsPacketIsDroppedWhenItsFlowCannotBeRecorded() throws {
        try send(udp(to: "198.18.0.12"), expect: DatapathTestRunTests.tcActUnspec)  // takes the only slot
        try datapath.quarantine.quarantine(1, since: MonotonicClock.now(), for: nil)
        try send(udp(to: "198.18.0.50"), expect: DatapathTestRunTests.tcActShot)
        try send(udp(to: "198.18.0.51"), expect: DatapathTestRunTests.tcActShot)
        #expect(datapath.counters.value(PW_CNT_FLOW_INSERT_FAILURES) == 2)
        #expect(datapath.counters.value(PW_CNT_DROPS_QUARANTINE) == 2)
        #expect(try datapath.quarantine.entry(1)?.drops == 2)
    }

    @Test func anAllowlistedOrUnquarantinedFlowPassesUnrecordedButCounted() throws {
        try send(udp(to: "198.18.0.12"), expect: DatapathTestRunTests.tcActUnspec)
        try send(udp(to: "198.18.0.50"), expect: DatapathTestRunTests.tcActUnspec)  // no quarantine: unchanged
        try datapath.quarantine.quarantine(1, since: MonotonicClock.now(), for: nil)
        try datapath.allowMap.update(pw_lpm_key(IPPrefix("198.18.0.53/32")!), 0)
        try datapath.policy.bump()
        try send(udp(to: "198.18.0.53"), expect: DatapathTestRunTests.tcActUnspec)
        #expect(datapath.counters.value(PW_CNT_FLOW_INSERT_FAILURES) == 2)
        #expect(datapath.counters.value(PW_CNT_DROPS_QUARANTINE) == 0)
    }
}

/// The TC programs loaded once more, sharing every map with a datapath but
/// the flow table, which here is a plain hash of one entry. The real table
/// is an LRU map: it evicts rather than refuses, and refuses only when CPUs
/// contend for it, which a test cannot provoke at will. A full hash refuses
/// every new flow (E2BIG), and the program takes the same path for any
/// refusal.
final class OneFlowTablePrograms: @unchecked Sendable {  // a libbpf handle, not changed after load
    private let handle: OpaquePointer
    /// libbpf reads the ELF from this buffer: kept as long as the object.
    private let image: UnsafeMutableRawBufferPointer
    let fromPodFD: Int32
    /// Its own flow table, the one-entry hash.
    private let flowsFD: Int32

    init(sharingWith datapath: Datapath) throws {
        let source = datapath.features.datapathImage
        let bytes = source.bytes
        let image = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        bytes.withUnsafeBytes { image.copyMemory(from: $0) }
        self.image = image
        guard let opened = pw_shim_open_mem(image.baseAddress, image.count, source.name, nil) else {
            image.deallocate()
            throw OneFlowTableError("opening \(source.name)")
        }
        handle = opened
        do {
            var map = bpf_object__next_map(handle, nil)
            while let current = map {
                let name = String(cString: bpf_map__name(current))
                bpf_map__set_pin_path(current, nil)
                if name == PW_MAP_FLOWS_NAME {
                    try Self.check(bpf_map__set_type(current, BPF_MAP_TYPE_HASH), "retyping \(name)")
                    try Self.check(bpf_map__set_max_entries(current, 1), "sizing \(name)")
                } else if let fd = try? datapath.object.mapDescriptor(named: name) {
                    try Self.check(bpf_map__reuse_fd(current, fd), "sharing \(name)")
                }
                map = bpf_object__next_map(handle, current)
            }
            try Self.check(bpf_object__load(handle), "loading \(source.name)")
            guard let program = bpf_object__find_program_by_name(handle, PW_PROG_FROM_POD_NAME) else {
                throw OneFlowTableError("finding \(PW_PROG_FROM_POD_NAME)")
            }
            fromPodFD = bpf_program__fd(program)
            flowsFD = bpf_object__find_map_fd_by_name(handle, PW_MAP_FLOWS_NAME)
        } catch {
            bpf_object__close(handle)
            image.deallocate()
            throw error
        }
    }

    deinit {
        bpf_object__close(handle)
        image.deallocate()
    }

    /// Frees the table's one slot (the rest of the maps are the data path's).
    func emptyFlowTable() throws {
        var key = pw_flow_key()
        while bpf_map_get_next_key(flowsFD, nil, &key) == 0 {
            try Self.check(bpf_map_delete_elem(flowsFD, &key), "emptying \(PW_MAP_FLOWS_NAME)")
        }
    }

    private static func check(_ result: Int32, _ operation: String) throws {
        guard result >= 0 else { throw OneFlowTableError("\(operation): error \(-result)") }
    }
}

struct OneFlowTableError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
