// Where a packet's time goes in pw_from_pod on the real path. scripts/bench-stages
// builds the empty program and pw_from_pod cut short after each stage
// (PW_BENCH_STOP_AFTER in bpf/lib/datapath.h); this attaches each in turn
// through TCX to the client pod's veth during one flood of 64-byte UDP
// datagrams and reads the kernel's run-time statistics, window by window,
// interleaved. Each variant is compared with the baseline's window of the
// same round, so that the VM's drift cancels.
// Run as root: scripts/bench-stages [windows per variant] [seconds per window]
import Foundation
import PodwallABI
import PodwallBPFObjects
import PodwallBenchSupport
import PodwallKernel
import PodwallLab

let arguments = CommandLine.arguments
guard arguments.count > 3, let windows = Int(arguments[1]), let seconds = Double(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: podwall-stage-bench WINDOWS SECONDS OBJECT...   (the first object is the baseline)\n".utf8))
    exit(2)
}

/// A 64-byte UDP datagram from the client pod (BPF_PROG_TEST_RUN's packet).
let udpPacket: [UInt8] =
    [
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        0x45, 0, 0, 50, 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 11, 198, 18, 0, 12,
        0x13, 0x88, 0x13, 0x89, 0, 30, 0, 0
    ] + [UInt8](repeating: 0x61, count: 22)

struct Failure: Error, CustomStringConvertible {
    let description: String
}

struct Variant: Sendable {
    let name: String
    let object: BPFObject
    let program: BPFProgram
    let pinRoot: String
}

LibbpfLog.capture(echo: false)
let iperf = try Iperf.lab(seconds: 1)
let lab = iperf.lab
defer { lab.teardown() }

let variants: [Variant] = try arguments[3...].enumerated().map { index, path in
    let name = URL(filePath: path).deletingPathExtension().lastPathComponent
    let image = BPFObjectImage(name: name, base64: try Data(contentsOf: URL(filePath: path)).base64EncodedString())
    // Inside the lab's pin root, which the lab's teardown removes whatever happens.
    let pinRoot = "\(lab.pinRoot)/stage\(index)"
    try BPFFilesystem.prepare(pinRoot: pinRoot)
    let object = try BPFObject(image: image, pinRoot: pinRoot)
    let program = try (try? object.program(named: PW_PROG_FROM_POD_NAME)) ?? object.program(named: "empty_tc")
    // Established flows skip the blocklist only under a policy generation.
    if let config: BPFMap<UInt32, pw_config> = try? object.map(named: PW_MAP_CONFIG_NAME) {
        try PolicyGeneration(config: config).bump()
    }
    return Variant(name: name, object: object, program: program, pinRoot: pinRoot)
}

/// The agent records each interface it attaches to in pw_links, where the
/// programs count the interface's traffic: the bench does too, for the test
/// runs' interface (loopback) and the client veth. An object built before
/// those counts reads the first bytes of the entry only, as its agent wrote it.
func recordLink(_ ifindex: UInt32, in variants: [Variant]) throws {
    for variant in variants {
        guard let links: BPFMap<UInt32, pw_link> = try? variant.object.map(named: PW_MAP_LINKS_NAME) else { continue }
        try links.update(ifindex, pw_link())
    }
}
try recordLink(1, in: variants)

/// Fastest of 20 interleaved passes of 100,000 runs: the cost with every cache warm.
var testRun: [String: UInt32] = [:]
for _ in 0..<20 {
    for variant in variants {
        _ = try ProgramTestRun.run(variant.program, packet: udpPacket)  // the flow exists from here on
        let duration = try ProgramTestRun.run(variant.program, packet: udpPacket, repeat: 100_000).durationNanoseconds
        testRun[variant.name] = min(testRun[variant.name] ?? .max, duration)
    }
}

let clientInterface = iperf.client.hostInterface
guard let client = try NetworkNamespace.run(lab.nodeNamespace, { try LinkWatcher.currentLinks().first { $0.name == clientInterface } })
else {
    throw Failure(description: "the lab has no \(clientInterface)")
}
try recordLink(client.index, in: variants)
let cycle = Double(variants.count) * (seconds + 0.3)
let flood = try iperf.startUDPFlood(seconds: Int((Double(windows) * cycle * 1.5).rounded(.up)) + 5)
defer { flood.terminate() }
usleep(1_000_000)
let statistics = try BPFProgram.enableRunTimeStatistics()
var perPacket: [String: [Double]] = [:]
for window in 1...windows {
    for variant in variants {
        try NetworkNamespace.run(lab.nodeNamespace) {
            try TCXLinks.attach(variant.program, ifindex: client.index, interface: client.name, hook: .ingress, pinRoot: variant.pinRoot)
        }
        usleep(200_000)
        let before = try variant.program.runStatistics()
        usleep(useconds_t(seconds * 1e6))
        let after = try variant.program.runStatistics()
        _ = try? NetworkNamespace.run(lab.nodeNamespace) { TCXLinks.detach(ifindex: client.index, pinRoot: variant.pinRoot) }
        guard flood.isRunning else { throw Failure(description: "iperf3's flood ended before the windows did") }
        guard after.runs > before.runs else { throw Failure(description: "no packet reached \(variant.name) in window \(window)") }
        perPacket[variant.name, default: []].append(Double(after.nanoseconds - before.nanoseconds) / Double(after.runs - before.runs))
    }
    FileHandle.standardError.write(Data("window \(window)/\(windows)\n".utf8))
}
withExtendedLifetime(statistics) {}

let baseline = perPacket[variants[0].name]!
print(
    "| variant | BPF_PROG_TEST_RUN, fastest pass (ns) | on the path, median of \(windows) windows (ns/packet) | less \(variants[0].name), median of the rounds |"
)
print("|---|---|---|---|")
for variant in variants {
    let onPath = perPacket[variant.name]!
    let overBaseline = median(zip(onPath, baseline).map { $0 - $1 })
    print(
        "| \(variant.name) | \(testRun[variant.name]!) | \(String(format: "%.1f", median(onPath))) | \(String(format: "%.1f", overBaseline)) |"
    )
}
