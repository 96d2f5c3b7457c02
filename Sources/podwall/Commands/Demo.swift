import ArgumentParser
import Foundation
import PodwallCore
import PodwallKernel
import PodwallLab

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a lab of pods in network namespaces and show podwall live.",
        discussion: """
            Creates a node namespace with a bridge and pods (namespaces joined by veths, \
            addresses 198.18.0.0/24 and fd00:198:18::/64), starts `podwall run` there, plays \
            traffic between the pods (ping, TCP, UDP over IPv6, HTTP with curl when installed, \
            a pod joining late) and shows the kernel's flow table after each step. Everything \
            it creates is removed at the end, also on Ctrl-C. Needs root.
            """
    )

    @Option(name: .long, help: "Number of pods in the lab.")
    var pods: Int = 3

    func validate() throws {
        guard (2...20).contains(pods) else { throw ValidationError("--pods must be between 2 and 20") }
        guard geteuid() == 0 else { throw ValidationError("the demo builds network namespaces and loads BPF: run it as root") }
    }

    func run() async throws {
        LibbpfLog.capture(echo: false)
        var console = DemoConsole()
        console.step("Building the lab: \(pods) pods behind a bridge in their own node namespace")
        let lab = try Lab(pods: pods)
        let interrupt = Self.tearDownOnInterrupt(lab)
        defer { interrupt.cancel(); lab.teardown() }
        for pod in lab.pods {
            console.detail("\(pod.name)  \(pod.ipv4)  \(pod.ipv6)  host side: \(pod.hostInterface)")
        }

        let agentLog = "/tmp/\(lab.id)-agent.log"
        console.step("Starting the agent: podwall run --interfaces 'veth-*' (log: \(agentLog))")
        try lab.spawn(lab.nodeCommand([CommandLine.arguments[0], "run", "--pin-root", lab.pinRoot, "--interfaces", "veth-*", "--log-flows"]),
                      logFile: agentLog)
        guard Self.waitFor(seconds: 20, { ((try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? "").contains("ready") }) else {
            throw ValidationError.failure("the agent did not become ready; see \(agentLog)")
        }
        console.detail("attached to \(lab.pods.count) pod interfaces")

        let view = FlowView(lab: lab)
        let (first, second, third) = (lab.pods[0], lab.pods[1], lab.pods[2 % lab.pods.count])
        if Shell.isInstalled("ping") {
            console.step("\(first.name) pings \(second.name)")
            try lab.inPod(first, ["ping", "-c", "3", "-i", "0.2", second.ipv4])
        }
        console.step("\(first.name) sends 5 MB over TCP to \(third.name)")
        let listener = try NetworkNamespace.run(third.namespace) { try LabSocket.tcpListener(address: third.ipv4, port: 5001) }
        let received = Task.detached { LabSocket.acceptAndCount(listener) }
        _ = try NetworkNamespace.run(first.namespace) { try LabSocket.sendTCP(to: third.ipv4, port: 5001, bytes: 5_000_000) }
        console.detail("\(await received.value) bytes received")
        close(listener)

        console.step("\(second.name) sends 100 UDP datagrams over IPv6 to \(third.name)")
        let receiver = try NetworkNamespace.run(third.namespace) { try LabSocket.udpReceiver(address: third.ipv6, port: 5353) }
        try NetworkNamespace.run(second.namespace) { try LabSocket.sendUDP(to: third.ipv6, port: 5353, sourcePort: 5454, count: 100, size: 200) }
        close(receiver)

        if Shell.isInstalled("curl") && Shell.isInstalled("nc") {
            console.step("\(first.name) fetches a page with curl from a web server in \(second.name)")
            try lab.spawnInPod(second, ["sh", "-c", "printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nhello\\n' | nc -l -p 80 -q 1"])
            _ = Self.waitFor(seconds: 2) { (try? lab.inPod(second, ["ss", "-ltn"]).output.contains(":80 ")) == true }
            let page = try lab.inPod(first, ["curl", "-s", "--max-time", "3", "http://\(second.ipv4)/"], check: false)
            console.detail("curl got: \(page.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }

        console.step("A new pod joins: the agent attaches to its veth as it appears")
        let start = Date()
        let late = try lab.addPod()
        let attached = Self.waitFor(seconds: 5) { (try? String(contentsOfFile: agentLog, encoding: .utf8))?.contains("interface=\(late.hostInterface)") == true }
        console.detail(attached ? "attached to \(late.hostInterface) \(Int(Date().timeIntervalSince(start) * 1000)) ms after it was created" : "not attached within 5 s")

        console.step("The kernel's flow table (podwall flows), biggest first")
        print(try view.render())
        console.step("Kernel counters (podwall status)")
        print(try view.counters())
        console.step("Removing the lab: namespaces, veths, pinned maps")
    }

    static func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// Ctrl-C or SIGTERM: remove the lab before exiting.
    static func tearDownOnInterrupt(_ lab: Lab) -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT)
        source.setEventHandler {
            FileHandleOutput.standardError("\ninterrupted: removing the lab")
            lab.teardown()
            Foundation.exit(130)
        }
        source.resume()
        return source
    }
}

/// Step-by-step output of the demo.
struct DemoConsole {
    private var step = 0
    private let bold = isatty(STDOUT_FILENO) != 0 ? "\u{1b}[1m" : ""
    private let reset = isatty(STDOUT_FILENO) != 0 ? "\u{1b}[0m" : ""

    mutating func step(_ text: String) {
        step += 1
        print("\n\(bold)[\(step)] \(text)\(reset)")
    }

    func detail(_ text: String) {
        print("    \(text)")
    }
}

/// The lab's flows as `podwall flows` shows them, without IPv6 neighbour
/// discovery noise.
struct FlowView {
    let lab: Lab

    func render() throws -> String {
        let names = try NetworkNamespace.run(lab.nodeNamespace) {
            Dictionary(try LinkWatcher.currentLinks().map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
        }
        let formatter = FlowFormatter(interfaceNames: names, wallClockOffset: MonotonicClock.wallClockOffset())
        let flows = try PinnedState(pinRoot: lab.pinRoot).flows().entries()
            .map { FlowRecord($0.key, $0.value) }
            .filter { !$0.key.remote.description.hasPrefix("ff02:") && !$0.key.pod.description.hasPrefix("ff02:") && $0.key.remote.description != "::" }
            .sorted { $0.fromPod.bytes + $0.toPod.bytes > $1.fromPod.bytes + $1.toPod.bytes }
        return formatter.table(flows)
    }

    func counters() throws -> String {
        TextTable.render(header: ["COUNTER", "VALUE"], rows: try PinnedState(pinRoot: lab.pinRoot).counters().snapshot().map { [$0.name, String($0.value)] })
    }
}
