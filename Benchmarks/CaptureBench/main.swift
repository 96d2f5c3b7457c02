// Capture benchmark: an iperf3 TCP stream across a pod veth with podwall
// attached, with no capture and with a capture of that stream (snaplen 256,
// no budget) written to a pcap file, interleaved round by round.
// Reports throughput with capture on ÷ off, and packets written to the file
// ÷ packets of the stream that crossed the veth (the capture's match count).
// Run as root: swift run -c release podwall-capture-bench [rounds] [seconds]
import Foundation
import PodwallBenchSupport
import PodwallCapture
import PodwallCore
import PodwallKernel
import PodwallLab

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5
let seconds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5

LibbpfLog.capture(echo: false)
let iperf = try Iperf.lab(seconds: seconds)
let lab = iperf.lab
defer { lab.teardown() }
let (client, server) = (iperf.client, iperf.server)
let datapath = try Datapath(options: .init(pinRoot: lab.pinRoot))
try NetworkNamespace.run(lab.nodeNamespace) {
    for link in try LinkWatcher.currentLinks() where link.name == client.hostInterface {
        try datapath.attach(link, monotonicNow: MonotonicClock.now())
    }
}
let clientIndex = try NetworkNamespace.run(lab.nodeNamespace) { if_nametoindex(client.hostInterface) }
let file = "/tmp/\(lab.id)-bench.pcap"

/// One iperf3 run with a capture of its data stream (server port 5201) running.
@MainActor
func capturedRun(round: Int) throws -> (gbits: Double, summary: CaptureSummary) {
    try? FileManager.default.removeItem(atPath: file)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let request = CaptureRequest(
        id: "bench-\(round)",
        filter: CaptureFilter(ifindex: clientIndex, remote: IPPrefix(server.ipv4), remotePort: 5201, proto: .tcp))
    let recorder = CaptureRecorder(
        kernel: try datapath.captures.start(request), request: request,
        file: try PcapFile(creating: file, snaplen: request.snaplen), store: nil, maxFileBytes: .max)
    try recorder.start()
    let gbits = try iperf.tcpGbits()
    usleep(300_000)
    recorder.stop()
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var summary: CaptureSummary?
    Task.detached {
        summary = await recorder.finished()
        semaphore.signal()
    }
    semaphore.wait()
    return (gbits, summary!)
}

var off: [Double] = [], on: [Double] = [], delivered: [Double] = []
var totals = (matched: UInt64(0), written: UInt64(0), lost: UInt64(0))
for round in 1...rounds {
    let captureFirst = round % 2 == 0
    for capture in captureFirst ? [true, false] : [false, true] {
        if capture {
            let (gbits, summary) = try capturedRun(round: round)
            on.append(gbits)
            delivered.append(Double(summary.packets) / Double(max(1, summary.matched)))
            totals.matched += summary.matched
            totals.written += summary.packets
            totals.lost += summary.lost
            FileHandle.standardError.write(
                Data(
                    "round \(round) capture on: \(gbits) Gbit/s, \(summary.packets)/\(summary.matched) packets written, \(summary.lost) lost\n"
                        .utf8))
        } else {
            off.append(try iperf.tcpGbits())
            FileHandle.standardError.write(Data("round \(round) capture off: \(off.last!) Gbit/s\n".utf8))
        }
    }
}

print(
    """
    | median of \(rounds) runs, iperf3 TCP across the client pod's veth, podwall attached | value |
    |---|---|
    | throughput, no capture | \(String(format: "%.2f", median(off))) Gbit/s |
    | throughput, capture of the stream (snaplen 256) to a pcap file | \(String(format: "%.2f", median(on))) Gbit/s |
    | throughput ratio, capture on ÷ off | \(String(format: "%.3f", median(on) / median(off))) |
    | packets written ÷ packets of the stream on the veth (median) | \(String(format: "%.4f", median(delivered))) |
    | all rounds: packets on the veth / written / lost in the kernel | \(totals.matched) / \(totals.written) / \(totals.lost) |

    \(seconds) s per iperf3 run; a "packet" is one skb at TC (a GSO packet counts once, as tcpdump shows it).
    """)
