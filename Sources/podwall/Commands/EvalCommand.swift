import ArgumentParser
import Foundation
import PodwallEval
import PodwallKernel
import PodwallLab

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure detection: attacks and benign traffic in a lab, with recall, precision and latencies.",
        discussion: """
            Builds a lab like `podwall demo` (pods in network namespaces, an internet), then \
            plays every scenario --repetitions times against a freshly started agent: nmap \
            connect, SYN, fragmented, slow, horizontal and UDP scans, an hping3 SYN sweep, \
            SSH/TLS/shell payloads to port 80, a bulk push to the internet, a connection to a \
            blocklisted address; and benign HTTP/1.1, HTTP/2, DNS-like UDP, iperf3, health \
            checks and retries. A scenario whose tool is missing is skipped and says so. \
            --load adds full-speed iperf3 TCP and a 64-byte UDP flood between two other pods. \
            Prints a Markdown table (recall, false alerts, detection and remediation latency, \
            and the attacker's packets that still arrived at the target after the quarantine or \
            block was in force, counted by tcpdump in the target's namespace) and writes JSON \
            with --json. Everything it creates is removed at the end.

            Examples:
              podwall eval --repetitions 20 --load --json eval.json
              podwall eval --only scan --repetitions 3
              podwall eval --only "SSH banner" --response protocol_mismatch=alert   # control: nothing blocked
            """
    )

    @Option(name: .long, help: "How many times each scenario runs.")
    var repetitions = 5

    @Flag(name: .long, help: "Background load: iperf3 TCP at full speed and a UDP small-packet flood between two other pods.")
    var load = false

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Only scenarios whose name contains this; repeat for more.", valueName: "text"))
    var only: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Passed to the agent as --response (repeat for more); e.g. protocol_mismatch=alert for a control run in which nothing is blocked.",
        valueName: "kind=action"))
    var response: [String] = []

    @Option(name: .long, help: ArgumentHelp("Write the results as JSON here too.", valueName: "file"))
    var json: String?

    func validate() throws {
        guard geteuid() == 0 else { throw ValidationError("the evaluation builds network namespaces and loads BPF: run it as root") }
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repetitions is 1...1000") }
    }

    func run() async throws {
        LibbpfLog.capture(echo: false)
        var options = EvalRunner.Options(binary: CommandLine.arguments[0])
        options.repetitions = repetitions
        options.backgroundLoad = load
        options.only = only
        options.responses = response
        let started = Date()
        // Unbuffered, so progress shows as it goes even when stdout is a file.
        var interrupt: [DispatchSourceSignal] = []
        defer { interrupt.forEach { $0.cancel() } }
        let results = try EvalRunner(options: options) { line in FileHandle.standardOutput.write(Data(("  " + line + "\n").utf8)) }
            .run { lab in interrupt = Demo.tearDownOnInterrupt(lab) }
        print("\n" + EvalStatistics.table(results))
        print("\n\(repetitions) repetitions, background load \(load ? "on" : "off"), "
              + (response.isEmpty ? "" : "agent responses \(response.joined(separator: ", ")), ")
              + "\(Int(Date().timeIntervalSince(started))) s.")
        if let json {
            let document = EvalDocument(date: ISO8601DateFormatter().string(from: started), repetitions: repetitions,
                                        backgroundLoad: load, responses: response.isEmpty ? nil : response,
                                        precision: EvalStatistics.precision(results), scenarios: results)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(document).write(to: URL(fileURLWithPath: json))
        }
    }
}

struct EvalDocument: Encodable {
    let date: String
    let repetitions: Int
    let backgroundLoad: Bool
    /// The agent's --response overrides, when a control run set any.
    let responses: [String]?
    let precision: Double?
    let scenarios: [ScenarioResult]

    enum CodingKeys: String, CodingKey {
        case date, repetitions, precision, scenarios
        case backgroundLoad = "background_load", responses = "agent_responses"
    }
}
