// Data-path benchmark: BPF_PROG_TEST_RUN cost per packet, and iperf3 TCP
// throughput and 64-byte UDP packet rate across a pod veth with and without
// podwall attached, interleaved, in one run on this machine.
// Run as root: swift run -c release podwall-datapath-bench [rounds] [seconds] [blocklist entries] [alternating cycles]
import Foundation
import PodwallBenchBPFObjects
import PodwallBenchSupport
import PodwallCore
import PodwallKernel
import PodwallLab

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5
let seconds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
/// Blocklist entries loaded while podwall is attached (none of them matches the test traffic).
let blocklistEntries = arguments.count > 3 ? Int(arguments[3]) ?? 0 : 0
/// Passes through the modes of the alternating-window measurement.
let alternatingCycles = arguments.count > 4 ? Int(arguments[4]) ?? 4 * rounds : 4 * rounds

func testRunCosts() throws -> (existing: Double, new: Double) {
    let datapath = try Datapath(options: .init(pinRoot: nil))
    _ = try ProgramTestRun.run(datapath.fromPod, packet: benchTCPPacket(sourcePort: 1))
    let existing = try ProgramTestRun.run(datapath.fromPod, packet: benchTCPPacket(sourcePort: 1), repeat: 1_000_000)
    // Every packet of a new flow: one run each, averaged.
    var total: Double = 0
    let flows = 50_000
    for port in 0..<flows {
        total += Double(try ProgramTestRun.run(datapath.fromPod, packet: benchTCPPacket(sourcePort: UInt16(2 + port))).durationNanoseconds)
    }
    return (Double(existing.durationNanoseconds), total / Double(flows))
}

LibbpfLog.capture(echo: false)
let costs = try testRunCosts()
let iperf = try Iperf.lab(seconds: seconds)
let lab = iperf.lab
defer { lab.teardown() }
let (client, server) = (iperf.client, iperf.server)
let datapath = try Datapath(options: .init(pinRoot: lab.pinRoot))
if blocklistEntries > 0 {
    // Random IPv4 singles and /24s in 11.0.0.0-126.0.0.0: never the lab's 198.18.0.0/24.
    var entries = Set<IPPrefix>()
    var generator = SystemRandomNumberGenerator()
    while entries.count < blocklistEntries {
        let address = IPAddress(ipv4: UInt32.random(in: 0x0B00_0000...0x7E00_0000, using: &generator))
        entries.insert(entries.count % 5 == 0 ? IPPrefix(containing: address, length: 24) : IPPrefix(host: address))
    }
    try datapath.blocklist.replaceFeed("bench", with: entries)
}
let links = try NetworkNamespace.run(lab.nodeNamespace) {
    try LinkWatcher.currentLinks().filter { $0.name.hasPrefix("veth-pod") }
}
/// Which veths carry what: nothing (baseline); an empty program attached
/// the way podwall attaches (the floor: what any TC program costs on this
/// path); podwall on the client pod's veth (the path "across a pod veth"),
/// through TCX where the kernel has it and through a clsact qdisc for
/// comparison; podwall on both pods' veths (two programs on every packet,
/// as on a node where both pods are local).
enum Mode: String, CaseIterable {
    case none, emptyProgram = "an empty program on the client veth", clientVeth = "client veth",
        clientVethClsact = "client veth, clsact", bothVeths = "both veths"
}

/// The floor: what attaching any TC program costs on this path.
let baselineObject = try BPFObject(image: .baseline, pinRoot: nil)
let emptyProgram = try baselineObject.program(named: "empty_tc")
/// The same data path attached through clsact, its maps pinned apart.
let clsactDatapath = try Datapath(options: .init(pinRoot: lab.pinRoot + "-clsact", attachMode: .clsact))
defer { BPFFilesystem.removePins(under: lab.pinRoot + "-clsact") }

func apply(_ mode: Mode) throws {
    try NetworkNamespace.run(lab.nodeNamespace) {
        let sorted = links.sorted(by: { $0.name < $1.name })
        for link in sorted {
            TCXLinks.detach(ifindex: link.index, pinRoot: lab.pinRoot)
            _ = try TrafficControl.removeFilters(from: link, qdiscCreatedByPodwall: false)
        }
        let client = sorted[0]
        switch mode {
        case .none:
            break
        case .emptyProgram where datapath.usesTCX:
            for hook in TCHook.allCases {
                try TCXLinks.attach(emptyProgram, ifindex: client.index, interface: client.name, hook: hook, pinRoot: lab.pinRoot)
            }
        case .emptyProgram:
            _ = try TrafficControl.ensureClsact(ifindex: client.index, interface: client.name)
            for hook in TCHook.allCases {
                try TrafficControl.attach(emptyProgram, ifindex: client.index, interface: client.name, hook: hook)
            }
        case .clientVeth:
            try datapath.attach(client, monotonicNow: MonotonicClock.now())
        case .clientVethClsact:
            try clsactDatapath.attach(client, monotonicNow: MonotonicClock.now())
        case .bothVeths:
            for link in sorted { try datapath.attach(link, monotonicNow: MonotonicClock.now()) }
        }
    }
}

var tcp: [Mode: [Double]] = [:]
var udp: [Mode: [Double]] = [:]
for round in 1...rounds {
    // Rotate the order so drift hits every mode equally.
    let order = Mode.allCases.indices.map { Mode.allCases[($0 + round) % Mode.allCases.count] }
    for mode in order {
        try apply(mode)
        tcp[mode, default: []].append(try iperf.tcpGbits())
        udp[mode, default: []].append(try iperf.udpPacketsPerSecond())
        FileHandle.standardError.write(
            Data("round \(round) \(mode.rawValue): TCP \(tcp[mode]!.last!) Gbit/s, UDP \(Int(udp[mode]!.last!)) pps\n".utf8))
    }
}
try apply(.none)

/// The UDP ratio again, from windows of one long flood (AlternatingFlood).
let alternating = try AlternatingFlood<Mode>(iperf: iperf, window: 0.5, settle: 0.1)
    .ratios(modes: [.none, .emptyProgram, .clientVeth], cycles: alternatingCycles, apply: apply)
try apply(.none)

/// What a program costs per packet on the real path, where caches are
/// colder than in BPF_PROG_TEST_RUN's loop: the kernel's run-time
/// statistics over one UDP flood, taken after the rounds because they slow
/// every program down while on. The empty program's figure is what the
/// statistics themselves add.
@MainActor func runTimePerPacket(_ mode: Mode, _ program: BPFProgram) throws -> (nanoseconds: Double, packetsPerSecond: Double) {
    try apply(mode)
    defer { try? apply(.none) }
    let statistics = try BPFProgram.enableRunTimeStatistics()
    defer { withExtendedLifetime(statistics) {} }
    let before = try program.runStatistics()
    let rate = try iperf.udpPacketsPerSecond()
    let after = try program.runStatistics()
    return (Double(after.nanoseconds - before.nanoseconds) / Double(max(1, after.runs - before.runs)), rate)
}
let emptyRunTime = try runTimePerPacket(.emptyProgram, emptyProgram)
let podwallRunTime = try runTimePerPacket(.clientVeth, datapath.fromPod)

/// From a block returning to the first dropped packet: a UDP stream of
/// numbered datagrams (one every ~20 us) runs while the server is blocked;
/// every datagram sent after the block returned must be lost.
func blockToDrop() throws -> (leaked: Int, firstDroppedAfterMicroseconds: Double) {
    try apply(.clientVeth)
    defer { try? apply(.none) }
    let sent = SequenceLog(), received = SequenceLog()
    let receiver = try NetworkNamespace.run(server.namespace) { try LabSocket.udpReceiver(address: server.ipv4, port: 7777) }
    defer { close(receiver) }
    let reading = Thread {
        var buffer = [UInt8](repeating: 0, count: 64)
        while recv(receiver, &buffer, 64, 0) >= 8 { received.append(buffer.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) }
    }
    reading.start()
    let sending = Thread {
        _ = try? NetworkNamespace.run(client.namespace) {
            let (family, address, length) = try LabSocket.socketAddress(server.ipv4, 7777)
            let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
            for sequence in UInt64(1)...40_000 {
                var value = sequence
                sent.append(sequence, at: MonotonicClock.now())
                _ = withUnsafePointer(to: address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, &value, 8, 0, $0, length) }
                }
                usleep(20)
            }
            close(fd)
        }
    }
    sending.start()
    usleep(300_000)
    try datapath.blocklist.addDynamic(IPPrefix(server.ipv4)!, expiresNs: 0)
    let returned = MonotonicClock.now()
    let lastSentBefore = sent.last
    while !sent.finished(40_000) { usleep(10_000) }
    usleep(300_000)
    _ = try datapath.blocklist.removeDynamic(IPPrefix(server.ipv4)!)
    let leaked = received.values.filter { $0 > lastSentBefore.sequence }.count
    let firstAfter = sent.firstSent(after: returned)
    return (leaked, Double(Int64(firstAfter) - Int64(returned)) / 1000)
}

/// Sequence numbers with send times, shared between threads.
final class SequenceLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(sequence: UInt64, time: UInt64)] = []
    func append(_ sequence: UInt64, at time: UInt64 = 0) { lock.withLock { entries.append((sequence, time)) } }
    var values: [UInt64] { lock.withLock { entries.map(\.sequence) } }
    var last: (sequence: UInt64, time: UInt64) { lock.withLock { entries.last ?? (0, 0) } }
    func finished(_ count: UInt64) -> Bool { last.sequence >= count }
    func firstSent(after time: UInt64) -> UInt64 { lock.withLock { entries.first { $0.time > time }?.time ?? time } }
}

let blocking = try blockToDrop()

/// Median and ratio to the baseline's median per mode; in brackets the
/// middle half of the per-round ratios, which shows the run-to-run spread.
func row(_ name: String, _ values: [Mode: [Double]], _ format: (Double) -> String) -> String {
    let base = median(values[.none]!)
    let cells = Mode.allCases.map { mode -> String in
        let value = median(values[mode]!)
        guard mode != .none else { return format(value) }
        let ratios = zip(values[mode]!, values[.none]!).map { $0 / $1 }.sorted()
        let quartiles = String(format: "%.2f-%.2f", ratios[ratios.count / 4], ratios[(ratios.count * 3) / 4])
        return "\(format(value)) (\(String(format: "%.3f", value / base)); \(quartiles))"
    }
    return "| \(name) | " + cells.joined(separator: " | ") + " |"
}

func alternatingRow(_ name: String, _ ratios: [Double]) -> String {
    let sorted = ratios.sorted()
    let middle = String(format: "%.3f-%.3f", sorted[sorted.count / 4], sorted[(sorted.count * 3) / 4])
    return
        "| \(name) | \(String(format: "%.3f", median(sorted))) (\(middle)) | \(String(format: "%.3f", sorted.reduce(0, +) / Double(sorted.count))) |"
}

let attachedThrough = datapath.usesTCX ? "TCX" : "clsact"
print(
    """
    | median of \(rounds) runs (ratio; per-round ratios, middle half) | no TC program | empty program, client veth, \(attachedThrough) | podwall, client veth, \(attachedThrough) | podwall, client veth, clsact | podwall, both veths, \(attachedThrough) |
    |---|---|---|---|---|---|
    \(row("iperf3 TCP, 1 stream, Gbit/s", tcp) { String(format: "%.2f", $0) })
    \(row("iperf3 UDP 64 B, received packets/s", udp) { String(Int($0)) })

    | 64 B UDP, one flood, \(alternatingCycles) windows of 0.5 s per mode, switched in turn | ratio to the no-program windows either side: median (middle half) | mean |
    |---|---|---|
    \(alternatingRow("empty program, client veth, \(attachedThrough)", alternating[.emptyProgram]!))
    \(alternatingRow("podwall, client veth, \(attachedThrough)", alternating[.clientVeth]!))

    | BPF_PROG_TEST_RUN, pw_from_pod | ns/packet |
    |---|---|
    | TCP packet of an existing flow (1,000,000 repeats) | \(Int(costs.existing)) |
    | TCP packet opening a new flow (mean of 50,000 flows) | \(Int(costs.new)) |

    | run time on the path, 64 B UDP flood, client veth (BPF run-time statistics) | ns/packet |
    |---|---|
    | empty program (what the statistics add) | \(Int(emptyRunTime.nanoseconds)) |
    | pw_from_pod | \(Int(podwallRunTime.nanoseconds)) |
    | pw_from_pod less the empty program, as a share of a packet's time on the sending CPU (1 / \(Int(podwallRunTime.packetsPerSecond)) pps) | \(String(format: "%.1f %%", (podwallRunTime.nanoseconds - emptyRunTime.nanoseconds) * podwallRunTime.packetsPerSecond / 1e7)) |

    | block to first drop (UDP every ~20 us, client veth) | value |
    |---|---|
    | datagrams sent after the block returned that were delivered | \(blocking.leaked) |
    | first datagram sent after the block returned (dropped) | \(String(format: "%.0f", blocking.firstDroppedAfterMicroseconds)) us later |

    \(seconds) s per iperf3 run, modes interleaved round by round; blocklist entries loaded while attached: \(blocklistEntries).
    """)
