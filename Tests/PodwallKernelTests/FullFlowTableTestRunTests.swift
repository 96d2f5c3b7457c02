import CPodwallShim
import PodwallABI
import PodwallBPFObjects
import PodwallCore
@testable import PodwallKernel
import PodwallTestSupport
import Testing

/// Fail closed: a quarantined pod's packet is dropped even when the flow
/// table cannot take its flow, and the failure is counted.
@Suite(.enabled(if: Privileged.enabled, Privileged.reason))
struct FullFlowTableTestRunTests {
    let datapath: Datapath
    let programs: OneFlowTablePrograms

    init() throws {
        LibbpfLog.capture(echo: false)
        datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096))
        programs = try OneFlowTablePrograms(sharingWith: datapath)
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
final class OneFlowTablePrograms {
    private let handle: OpaquePointer
    /// libbpf reads the ELF from this buffer: kept as long as the object.
    private let image: UnsafeMutableRawBufferPointer
    let fromPodFD: Int32

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

    private static func check(_ result: Int32, _ operation: String) throws {
        guard result >= 0 else { throw OneFlowTableError("\(operation): error \(-result)") }
    }
}

struct OneFlowTableError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
