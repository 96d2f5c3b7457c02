import ArgumentParser
import PodwallCommandLine
import PodwallAgent
import PodwallCore
import PodwallKernel

struct Flows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the flows in the kernel's flow table.",
        discussion: """
            Reads the pinned flow map directly, so it works whether or not the agent runs. \
            Each flow is seen from the pod: pod address and port, remote address and port, \
            and packets, bytes and TCP flags in each direction (out = from the pod). While an \
            agent runs on the same pins, each flow also names its pod as the agent's alerts do \
            (POD NAME; pod_name in JSON) and, for a flow the pod opened with connect() while \
            the agent watched its processes, the process that opened it: PROCESS as \
            comm[pid]<-parent (nc[1234]<-sh); in JSON a process object with exec_id, binary, \
            arguments, ancestors and cgroup_path, as network alerts name it.

            Examples:
              podwall flows
              podwall flows --json | jq 'select(.remote_port == 80)'
            """
    )

    @Flag(name: .long, help: "One JSON object per line instead of a table.")
    var json = false

    @Option(name: .long, help: "Only flows on this interface.")
    var interface: String?

    @OptionGroup var pins: PinOptions

    func run() async throws {
        LibbpfLog.capture(echo: false)
        let agent = await AgentAPIClient.local(pinRoot: pins.pinRoot)
        let (podNames, processes) = (await agent?.podNames() ?? [:], await agent?.flowProcesses() ?? [:])
        try await reportingKernelErrors {
            let names = try LinkWatcher.namesByIndex()
            let formatter = FlowFormatter(
                interfaceNames: names, wallClockOffset: MonotonicClock.wallClockOffset(), podNames: podNames, processes: processes)
            var flows = try PinnedState(pinRoot: pins.pinRoot).flows().records()
            if let interface { flows = flows.filter { formatter.interfaceName($0.key.ifindex) == interface } }
            flows.sort { ($0.key.ifindex, $0.firstSeen) < ($1.key.ifindex, $1.firstSeen) }
            if json {
                for flow in flows { print(formatter.json(flow)) }
            } else {
                print(formatter.table(flows))
                print("\(flows.count) flow\(flows.count == 1 ? "" : "s")")
            }
        }
    }
}
