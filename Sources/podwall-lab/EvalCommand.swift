import ArgumentParser
import Foundation
import PodwallCommandLine
import PodwallEval
import PodwallKernel
import PodwallLab

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure detection: attacks and benign traffic in a lab, with recall, precision and latencies.",
        discussion: """
            Builds a lab like `podwall demo` (pods in network namespaces, an internet) and \
            plays every scenario --repetitions times: nmap connect, SYN, fragmented, slow, \
            horizontal, UDP, FIN, NULL, Xmas and ACK scans, a SYN scan while the scanning pod \
            floods new UDP flows, an hping3 SYN sweep, SSH/TLS/shell payloads to port 80, a \
            bulk push to the internet, a connection to a blocklisted address; and benign \
            HTTP/1.1 (150 connections a run to a server that writes headers and body \
            separately), HTTP/2, DNS-like UDP, iperf3, health checks and retries. Then the \
            process scenarios in a runc container of the attacking pod (reverse shells, a \
            network tool, benign shells), and the process baseline's (unexpected-binary, \
            startup-script-learning: a new workload each run, the agent learning for \
            \(Int(EvalRunner.learningSeconds)) s; with --agent shared they play last, against \
            the agent started again with that window). Then the file scenarios (--only file): \
            each run a new workload whose container has a writable root with a node image's \
            files, its app started inside the window; attacks write /etc/shadow and \
            /root/.ssh/authorized_keys and read the service-account token after the window, \
            run a program written to /tmp, one written to /opt and one from a memfd, mount a \
            cgroup for its release_agent, unshare -Urm and nsenter -t 1 -m; benign ones write \
            logs and caches, reload a config, install a tool inside the window and again \
            after it, and rotate logs. A scenario whose tool is missing is skipped and says so.

            --agent shared (the default) plays it like a day on a node: one agent for the \
            whole run, the matrix in rounds, and after each scenario its response undone \
            through the CLI as an operator would (`podwall quarantine release`, `podwall \
            blocklist del`, through the agent's API), so the next starts from a free pod and \
            every scan after the first is the same pod scanning again. Alerts are attributed \
            to the scenario in which their newest occurrence was decided; late updates of an \
            earlier incident are counted for no one (docs/evaluation.md). --agent fresh \
            starts a new agent for every run instead: no detector state or dedup window \
            carries over.

            --load adds full-speed iperf3 TCP and a 64-byte UDP flood between two bystander \
            pods, and on the attacking pod itself an iperf3 stream and a flood of new UDP \
            flows (5,000 a second to one closed port, the source port changing with \
            every datagram).

            Prints a Markdown table (recall, false alerts, detection and remediation latency, \
            the time from the first packet to the decision, and the attacker's packets that \
            still arrived at the target after the quarantine or block was in force, counted by \
            tcpdump in the target's namespace), then the alerts file's line count against the \
            agent's bound of one update line per alert and update interval. Writes JSON with \
            --json. Everything it creates is removed at the end, also on Ctrl-C.

            Examples:
              # A day on a node, under load:
              podwall eval --repetitions 20 --load --json eval.json
              # The same with a new agent for every run:
              podwall eval --repetitions 20 --load --agent fresh --json fresh.json
              # Only the scans, three rounds:
              podwall eval --only scan --repetitions 3
              # The file and breakout scenarios, 20 rounds:
              podwall eval --only file --repetitions 20 --json files.json
              # Control: the block off, to see what arrives after the decision:
              podwall eval --only "SSH banner" --response protocol_mismatch=alert
              # The scans and benign traffic, the walk deciding at the third failure:
              podwall eval --only nmap --only hping3 --only HTTP/ --only DNS-like \\
                --only iperf3 --only health-check --only retrying \\
                --set detection.scan.false_positive_probability=0.02
            """
    )

    @Option(name: .long, help: "How many times each scenario runs.")
    var repetitions = 5

    @Flag(
        name: .long,
        help:
            "Background load: iperf3 TCP and a small-packet UDP flood between two bystanders; an iperf3 stream and a new-flow UDP flood from the attacker."
    )
    var load = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "shared: one agent for the whole run, responses undone through the CLI between scenarios; fresh: a new agent for every run.",
            valueName: "shared|fresh"))
    var agent: EvalRunner.AgentMode = .shared

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Only scenarios whose name contains this; repeat for more.", valueName: "text"))
    var only: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Passed to the agent as --response (repeat for more); e.g. protocol_mismatch=alert for a control run in which nothing is blocked.",
            valueName: "kind=action"))
    var response: [String] = []

    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp(
            "Passed to the agent as --set (repeat for more); e.g. detection.scan.false_positive_probability=0.02 to measure a detector setting.",
            valueName: "key=value"))
    var settings: [String] = []

    @Option(name: .long, help: ArgumentHelp("Write the results as JSON here too.", valueName: "file"))
    var json: String?

    func validate() throws {
        guard geteuid() == 0 else { throw ValidationError("the evaluation builds network namespaces and loads BPF: run it as root") }
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repetitions is 1...1000") }
    }

    func run() async throws {
        LibbpfLog.capture(echo: false)
        var options = EvalRunner.Options(binary: SiblingExecutable.path("podwall"))
        options.repetitions = repetitions
        options.backgroundLoad = load
        options.agentMode = agent
        options.only = only
        options.responses = response
        options.settings = settings
        let started = Date()
        // Unbuffered, so progress shows as it goes even when stdout is a file.
        var interrupt: [DispatchSourceSignal] = []
        defer { interrupt.forEach { $0.cancel() } }
        let report = try EvalRunner(options: options) { line in FileHandle.standardOutput.write(Data(("  " + line + "\n").utf8)) }
            .run { lab in interrupt = Demo.tearDownOnInterrupt(lab) }
        let seconds = Int(Date().timeIntervalSince(started))
        print("\n" + EvalStatistics.table(report.results))
        let processes = EvalStatistics.processTable(report.results)
        if !processes.isEmpty { print("\nProcess scenarios (in a container of the attacker pod):\n\n" + processes) }
        let baseline = EvalStatistics.baselineTable(report.results)
        if !baseline.isEmpty {
            print(
                "\nProcess baseline scenarios (a new workload each run, learning for \(Int(EvalRunner.learningSeconds)) s):\n\n"
                    + baseline)
        }
        let files = EvalStatistics.fileTable(report.results)
        if !files.isEmpty {
            print(
                "\nFile scenarios (a new workload each run, with a writable root; learning for \(Int(EvalRunner.learningSeconds)) s):\n\n"
                    + files)
        }
        print(report.alertsFile.sentence)
        if let flood = report.floodDatagrams, flood > 0 {
            print(
                "The attacker's new-flow UDP flood: \(flood) datagrams reached the bystander's closed port "
                    + "(\(flood / max(seconds, 1)) a second over the run; none while the attacker was quarantined).")
        }
        print(
            "\n\(repetitions) repetitions, \(agent == .shared ? "one agent for the whole run" : "a fresh agent for every run"), "
                + "background load \(load ? "on" : "off"), "
                + (response.isEmpty ? "" : "agent responses \(response.joined(separator: ", ")), ")
                + (settings.isEmpty ? "" : "agent settings \(settings.joined(separator: ", ")), ")
                + "\(seconds) s.")
        if let json {
            let document = EvalDocument(
                date: ISO8601DateFormatter().string(from: started), repetitions: repetitions,
                agentMode: agent, backgroundLoad: load, responses: response.isEmpty ? nil : response,
                settings: settings.isEmpty ? nil : settings,
                precision: EvalStatistics.precision(report.results), alertsFile: report.alertsFile,
                floodDatagrams: report.floodDatagrams, seconds: seconds, scenarios: report.results)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(document).write(to: URL(fileURLWithPath: json))
        }
    }
}

extension EvalRunner.AgentMode: ExpressibleByArgument {}

struct EvalDocument: Encodable {
    let date: String
    let repetitions: Int
    let agentMode: EvalRunner.AgentMode
    let backgroundLoad: Bool
    /// The agent's --response overrides, when a control run set any.
    let responses: [String]?
    /// The agent's --set overrides, when a run measured a setting.
    let settings: [String]?
    let precision: Double?
    let alertsFile: AlertsFileSummary
    let floodDatagrams: Int?
    let seconds: Int
    let scenarios: [ScenarioResult]

    enum CodingKeys: String, CodingKey {
        case date, repetitions, precision, scenarios, seconds
        case agentMode = "agent_mode", backgroundLoad = "background_load", responses = "agent_responses", settings = "agent_settings",
            alertsFile = "alerts_file"
        case floodDatagrams = "flood_datagrams"
    }
}
