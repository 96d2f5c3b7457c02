// Process pillar benchmark (#17): what podwall's exec, fork and exit
// programs cost a fork+exec loop of /bin/true in a pod and on the host
// (paired rounds with and without podwall, and the programs' own run time),
// and whether exec events are lost at up to 5,000 execs/s and at the highest
// rate the machine reaches (in the ring's reader and in `podwall run`), and
// counted when a ring is too small.
// Run as root: swift build -c release --product podwall-exec-bench && .build/release/podwall-exec-bench [rounds] [execs per loop] [spawning workers]
// Only the loss measurements (podwall built beside it): .build/release/podwall-exec-bench loss [seconds per rate] [-] [spawning workers]
// Only the relayed-shell decision's cost: .build/release/podwall-exec-bench relay [rounds] [connects per loop]
// The file pillar's open costs and loss (#18): .build/release/podwall-exec-bench files [rounds] [opens per loop]
import Foundation
import PodwallBenchSupport
import PodwallKernel
import PodwallLab

let mode = CommandLine.arguments.dropFirst().first.flatMap { ["relay", "files", "loss"].contains($0) ? $0 : nil }
let arguments = mode == nil ? CommandLine.arguments : Array(CommandLine.arguments.dropFirst())
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 15 : 15
let count = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : (mode == "files" ? 200_000 : 2000)
let workers = arguments.count > 3 ? Int(arguments[3]) ?? 2 : 2

LibbpfLog.capture(echo: false)
guard let mount = CgroupHooks.cgroup2Mount() else {
    progress("podwall-exec-bench: no cgroup v2 mount")
    exit(1)
}
let lab = try Lab(pods: 1)
let interrupts = tearDownOnInterrupt(lab)
do {
    let container = try lab.runContainer(in: lab.pods[0], name: "bench", command: ["sleep", "infinity"])
    guard let labCgroup = lab.cgroupPath else { throw ExecBenchFailure(description: "the lab has no cgroup") }
    try FileManager.default.createDirectory(atPath: labCgroup + "/host-loop", withIntermediateDirectories: false)
    let bench = ExecBench(
        lab: lab, container: container, mount: mount, hostCgroup: labCgroup + "/host-loop", loop: ExecLoop(count: count))
    switch mode {
    case "relay"?:
        print(try bench.relayRunTimes(rounds: rounds, connects: count))
        lab.teardown()
        exit(0)
    case "files"?:
        let openLoop = try OpenLoop.build(for: container)
        let (paired, added) = try bench.fileOpenRounds(rounds, opens: count, loop: openLoop)
        print(paired)
        print("\n" + (try bench.fileOpenRunTimes(rounds: max(5, rounds / 3), opens: count / 4, loop: openLoop, added: added)))
        print("\n" + (try bench.fileLoss(rates: [5_000, 10_000, 20_000, 40_000, 0], seconds: 3, loop: openLoop)))
        lab.teardown()
        exit(0)
    case "loss"?:
        print(try bench.execLosses(seconds: rounds, workers: workers))
        lab.teardown()
        exit(0)
    default: break
    }
    print(try bench.pairedRounds(rounds))
    print("\n" + (try bench.runTimes(rounds: max(5, rounds / 3))))
    print("\n" + (try bench.execLosses(seconds: 3, workers: workers)))
    print("\n" + (try bench.lossWithSmallRing(bytes: UInt32(getpagesize()))))
    print("\n" + (try bench.relayRunTimes(rounds: max(5, rounds / 3))))
} catch {
    progress("podwall-exec-bench: \(error)")
    lab.teardown()
    exit(1)
}
lab.teardown()
withExtendedLifetime(interrupts) {}
