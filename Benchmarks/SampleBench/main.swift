// What one volume sample costs with the flow table full: the agent reads the
// whole table (`FlowTable.snapshot`) and judges every open flow the pods
// opened (`Aggregator.sample`) once per sample period (250 ms). This fills a
// private table through the real program (BPF_PROG_TEST_RUN, one TCP SYN per
// flow from a pod to a cluster address, as a SYN flood leaves it), then
// times each step, round after round.
// Run as root: swift run -c release podwall-sample-bench [flows] [rounds]
import Foundation
import PodwallBenchSupport
import PodwallCore
import PodwallDetection
import PodwallKernel

let arguments = CommandLine.arguments
let flows = arguments.count > 1 ? Int(arguments[1]) ?? 262_144 : 262_144
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 10 : 10

LibbpfLog.capture(echo: false)
let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: UInt32(max(flows, 1024))))
let fillStart = MonotonicClock.now()
for index in 0..<flows {
    _ = try ProgramTestRun.run(
        datapath.fromPod,
        packet: benchTCPPacket(
            sourcePort: UInt16(1024 + index % 60_000), host: UInt16(12 + index / 60_000), flags: 0x02, payload: 0))
}
progress("filled \(datapath.flows.count) flows in \(format(Double(MonotonicClock.now() - fillStart) / 1e9, 1)) s")

var config = AggregatorConfig()
config.exfiltration.clusterCIDRs = [IPPrefix("198.18.0.0/16")!]
var aggregator = Aggregator(config: config)
var readMs: [Double] = []
var sampleMs: [Double] = []
for round in 0..<rounds {
    let start = MonotonicClock.now()
    let snapshot = datapath.flows.snapshot()
    let read = MonotonicClock.now()
    _ = aggregator.sample(snapshot.records, at: read, now: read)
    let judged = MonotonicClock.now()
    readMs.append(Double(read - start) / 1e6)
    sampleMs.append(Double(judged - read) / 1e6)
    progress(
        "round \(round + 1): \(snapshot.records.count) records, read \(format(readMs.last!, 1)) ms, judged \(format(sampleMs.last!, 1)) ms")
}
print("flows \(flows): snapshot read ms \(summary(readMs, 1)); sample judged ms \(summary(sampleMs, 1))")
