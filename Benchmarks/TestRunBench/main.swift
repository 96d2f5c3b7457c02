// BPF_PROG_TEST_RUN cost of podwall's TC program per packet of an
// established flow, against an empty TC program on the same kernel, in
// alternating rounds: the ratio holds where absolute times do not (the
// kernel matrix runs it under software emulation).
// Run as root: swift run -c release podwall-testrun-bench [rounds] [repeats]
// (scripts/kernel-matrix --bench runs it on each kernel of the matrix).
import Foundation
import PodwallBenchBPFObjects
import PodwallBenchSupport
import PodwallKernel

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 11 : 11
let repeats = arguments.count > 2 ? UInt32(arguments[2]) ?? 200_000 : 200_000

LibbpfLog.capture(echo: false)
let datapath = try Datapath(options: .init(pinRoot: nil))
let empty = try BPFObject(image: .baseline, pinRoot: nil).program(named: "empty_tc")
let packet = benchTCPPacket(sourcePort: 1)
_ = try ProgramTestRun.run(datapath.fromPod, packet: packet)  // the flow exists from here on

var podwall: [Double] = []
var baseline: [Double] = []
var ratios: [Double] = []
for _ in 0..<rounds {
    let own = Double(try ProgramTestRun.run(datapath.fromPod, packet: packet, repeat: repeats).durationNanoseconds)
    let none = Double(try ProgramTestRun.run(empty, packet: packet, repeat: repeats).durationNanoseconds)
    podwall.append(own)
    baseline.append(none)
    ratios.append(own / none)
}
let features = KernelFeatures.probe()
print(
    """
    test-run on Linux \(features.release) (\(features.datapathImage.name)), \(rounds) rounds of \(repeats) runs, median ns a packet:
      podwall \(String(format: "%.0f", median(podwall))), empty program \(String(format: "%.0f", median(baseline))), \
    ratio \(String(format: "%.2f", median(ratios))) (rounds \(String(format: "%.2f", ratios.min() ?? 0))–\(String(format: "%.2f", ratios.max() ?? 0)))
    """)
