import ArgumentParser
import PodwallCommandLine
import PodwallCore
import PodwallDetection
import PodwallAgent
import PodwallCapture
import PodwallReplay

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the detectors over a capture file (pcap or pcapng), no root needed.",
        discussion: """
            Packets go through the same flow model and detectors as in the live agent, on the \
            capture's own clock and at the agent's cadence (ticks every 250 ms, a volume sample \
            four times per exfiltration interval, at least every 2 s). With --config, the \
            detection settings are those of the agent's podwall.yaml. The side that sent a \
            flow's first packet plays the pod. Responses are reported as the policy would take \
            them, never carried out.

            Examples:
              podwall replay suspicious.pcap
              podwall replay node-7.pcap --config /etc/podwall/podwall.yaml
              podwall replay capture.pcapng --json | jq 'select(.kind == "port_scan")'
            """
    )

    @Argument(help: ArgumentHelp("A pcap or pcapng file.", valueName: "file"))
    var file: String

    @Flag(help: "Alerts as JSON lines.")
    var json = false

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Cluster CIDR: never counted as exfiltration (default: RFC 1918, CGNAT and ULA); repeat for more.", valueName: "cidr"))
    var clusterCIDR: [String] = []

    @Option(
        help: ArgumentHelp(
            "The agent's podwall.yaml: its detection settings (intervals, thresholds, cluster CIDRs).",
            valueName: "file"))
    var config: String?

    func run() async throws {
        var config: AggregatorConfig
        do {
            config = try self.config.map { try ConfigLoader.load(file: $0, overrides: []).detection } ?? AggregatorConfig()
        } catch let error as ConfigError {
            throw ValidationError.failure(error.description)
        }
        if !clusterCIDR.isEmpty {
            config.exfiltration.clusterCIDRs = try clusterCIDR.map(parsePrefix)
        }
        let result: Replay.Result
        do {
            result = try Replay.run(path: file, config: config)
        } catch let error as PcapPackets.Failure {
            throw ValidationError.failure(error.description)
        }
        let alerts = result.alerts.filter { !$0.isUpdate }
        if json {
            for alert in alerts { print(try AlertJSON.line(alert)) }
            return
        }
        print("\(result.packets) packets, \(result.decoded) IP packets, \(result.flows) flows, \(alerts.count) alerts")
        guard !alerts.isEmpty else { return }
        print(
            TextTable.render(
                header: ["TIME", "KIND", "SEVERITY", "SOURCE", "REMOTE"],
                rows: alerts.map { alert in
                    [
                        alert.time, alert.kind.rawValue, alert.severity.rawValue, alert.source.address.description,
                        alert.flows.first.map { "\($0.remote):\($0.remotePort)" } ?? "-"
                    ]
                }))
    }
}
