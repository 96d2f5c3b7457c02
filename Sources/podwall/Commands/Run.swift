import ArgumentParser
import PodwallCommandLine
import Foundation
import PodwallAgent
import PodwallCapture
import PodwallKernel
import PodwallCore
import PodwallDetection

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the node agent in the foreground.",
        discussion: """
            Loads the data path (or adopts the one a previous agent left pinned), attaches \
            it to every interface whose name matches the interface patterns, now and as pods \
            come and go, tracks every flow, enforces the blocklist, runs the detectors and \
            answers alerts. Ctrl-C or SIGTERM stops the agent; the programs and pinned maps \
            stay, so traffic keeps being tracked and enforced, and a restarted agent adopts \
            them. `podwall uninstall` removes everything.

            Configuration: the built-in defaults (`podwall config --print-defaults`), then \
            --config FILE, then the flags below and --set KEY=VALUE, which win. SIGHUP or a \
            change to the file reloads it; a file that fails validation is refused and the \
            running configuration stays.

            Examples:
              podwall run                          # default CNI veth patterns
              podwall run --config /etc/podwall/podwall.yaml
              podwall run --interfaces 'lxc*' --set capture.snaplen=512
              podwall run --log-flows --debug
              podwall run --feed /etc/podwall/feeds --allow 10.96.0.10/32 --cgroup /sys/fs/cgroup/kubepods.slice
            """
    )

    @Option(name: .long, help: ArgumentHelp("The agent's YAML configuration (see `podwall config --print-defaults`).", valueName: "file"))
    var config: String?

    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp(
            "Set any configuration key, value in YAML: --set capture.snaplen=512, --set allow=[10.96.0.10/32]; repeat for more.",
            valueName: "key=value"))
    var settings: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Interface name pattern to attach to (shell glob; repeat for more). Key: interfaces.", valueName: "pattern"))
    var interfaces: [String] = []

    @Option(name: .long, help: ArgumentHelp("Flow table size (LRU entries). Key: flow_entries.", valueName: "entries"))
    var flowEntries: String?

    @Option(name: .long, help: ArgumentHelp("Report and remove flows idle this long. Key: idle_timeout_seconds.", valueName: "seconds"))
    var idleTimeout: String?

    @Option(name: .long, help: ArgumentHelp("Log kernel counters this often. Key: stats_interval_seconds.", valueName: "seconds"))
    var statsInterval: String?

    @Flag(name: .long, help: "Log every flow event (new, payload, end). Key: log_flows.")
    var logFlows = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The pods' cgroup v2 directory for the connect()/sendmsg() hooks (default: kubepods under the cgroup v2 mount). Key: cgroup.",
            valueName: "path"))
    var cgroup: String?

    @Flag(name: .long, help: "Do not attach the cgroup socket hooks (TC still drops). Key: cgroup: \"\".")
    var noCgroup = false

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Never block this destination (cluster DNS, API server, node CIDRs); repeat for more. Key: allow.", valueName: "cidr"))
    var allow: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "A blocklist feed: a file or directory (reloaded when it changes) or an http(s) URL (polled); repeat for more. Key: feeds.sources.",
            valueName: "path|url"))
    var feed: [String] = []

    @Option(
        name: .long, help: ArgumentHelp("How often feed URLs are downloaded again. Key: feeds.url_interval_seconds.", valueName: "seconds"))
    var feedInterval: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A feeds file (YAML) whose enabled feeds are loaded, see blocklists/feeds.yaml. Key: feeds.config.", valueName: "file"))
    var feedsConfig: String?

    @Flag(name: .long, help: "Skip bad feed lines instead of rejecting the feed. Key: feeds.lenient.")
    var lenient = false

    @Option(
        name: .long, help: ArgumentHelp("Append alerts (JSON lines) to this file instead of stdout. Key: alerts.file.", valueName: "file"))
    var alerts: String?

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Pod, service and node CIDRs: never exfiltration; repeat for more. Key: cluster_cidrs.", valueName: "cidr"))
    var clusterCIDR: [String] = []

    @Flag(name: .long, help: "Only alert: no quarantine, block or capture responses.")
    var alertOnly = false

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "Response to a kind of alert: KIND=alert|block|quarantine[:TTL][+capture], e.g. port_scan=alert or exfiltration=block:30m+capture. Keys: responses.*.",
            valueName: "kind=action"))
    var response: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "A TCP port where only HTTP is expected (default 80); repeat for more. Key: detection.http_ports.", valueName: "port"))
    var httpPort: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Exfiltration: length of one volume interval. Key: detection.exfiltration.interval_seconds.", valueName: "seconds"))
    var exfilInterval: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Exfiltration: quiet intervals learned before alerting. Key: detection.exfiltration.warmup_intervals.", valueName: "count"))
    var exfilWarmup: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Exfiltration: never alert below this many bytes per interval. Key: detection.exfiltration.floor_bytes.", valueName: "bytes"))
    var exfilFloor: String?

    @Option(name: .long, help: ArgumentHelp("Where alert captures (pcap files) go. Key: capture.directory.", valueName: "dir"))
    var captureDir: String?

    @Flag(name: .long, help: "Turn the capture response off. Key: capture.enabled.")
    var noCaptures = false

    @Option(name: .long, help: ArgumentHelp("Cap on one capture file. Key: capture.max_file_mib.", valueName: "MiB"))
    var captureFileMB: String?

    @Option(name: .long, help: ArgumentHelp("Disk budget of the capture directory. Key: capture.disk_budget_mib.", valueName: "MiB"))
    var captureDiskMB: String?

    @Option(name: .long, help: ArgumentHelp("Packet budget of one alert capture. Key: capture.packets.", valueName: "count"))
    var capturePackets: String?

    @Option(name: .long, help: ArgumentHelp("How long an alert capture runs. Key: capture.seconds.", valueName: "seconds"))
    var captureSeconds: String?

    @Option(name: .long, help: ArgumentHelp("Bytes kept of each captured packet. Key: capture.snaplen.", valueName: "bytes"))
    var captureSnaplen: String?

    @Option(name: .long, help: ArgumentHelp("HTTP API address, HOST:PORT, or \"\" for none. Key: api.address.", valueName: "host:port"))
    var api: String?

    @Option(name: .long, help: ArgumentHelp("File holding the API's bearer token for writes. Key: api.token_file.", valueName: "file"))
    var apiTokenFile: String?

    @OptionGroup var pins: PinOptions
    @OptionGroup var logging: LoggingOptions

    /// The flags as configuration overrides, in the order the keys are documented.
    func overrides() throws -> [ConfigOverride] {
        var result: [ConfigOverride] = []
        func scalar(_ key: String, _ value: String?) throws {
            if let value { result.append(try ConfigOverride(key: key, yaml: value)) }
        }
        func text(_ key: String, _ value: String?) {
            if let value { result.append(ConfigOverride(key: key, value)) }
        }
        func list(_ key: String, _ values: [String]) {
            if !values.isEmpty { result.append(ConfigOverride(key: key, values)) }
        }
        list("interfaces", interfaces)
        if pins.pinRoot != BPFFilesystem.defaultPinRoot { text("pin_root", pins.pinRoot) }
        try scalar("flow_entries", flowEntries)
        try scalar("idle_timeout_seconds", idleTimeout)
        try scalar("stats_interval_seconds", statsInterval)
        if logFlows { try scalar("log_flows", "true") }
        text("cgroup", noCgroup ? "" : cgroup)
        list("cluster_cidrs", clusterCIDR)
        list("allow", allow)
        list("feeds.sources", feed)
        text("feeds.config", feedsConfig)
        if lenient { try scalar("feeds.lenient", "true") }
        try scalar("feeds.url_interval_seconds", feedInterval)
        if !httpPort.isEmpty { try scalar("detection.http_ports", "[\(httpPort.joined(separator: ","))]") }
        try scalar("detection.exfiltration.interval_seconds", exfilInterval)
        try scalar("detection.exfiltration.warmup_intervals", exfilWarmup)
        try scalar("detection.exfiltration.floor_bytes", exfilFloor)
        if alertOnly {
            for kind in AlertKind.allCases { text("responses.\(kind.rawValue)", "alert") }
        }
        for rule in response {
            guard let equals = rule.firstIndex(of: "=") else {
                throw ValidationError("--response '\(rule)': write it as KIND=ACTION, e.g. port_scan=alert")
            }
            text("responses.\(rule[..<equals])", String(rule[rule.index(after: equals)...]))
        }
        if noCaptures { try scalar("capture.enabled", "false") }
        text("capture.directory", captureDir)
        try scalar("capture.max_file_mib", captureFileMB)
        try scalar("capture.disk_budget_mib", captureDiskMB)
        try scalar("capture.packets", capturePackets)
        try scalar("capture.seconds", captureSeconds)
        try scalar("capture.snaplen", captureSnaplen)
        text("api.address", api)
        text("api.token_file", apiTokenFile)
        text("alerts.file", alerts)
        return result + (try settings.map(ConfigOverride.parse))
    }

    func run() async throws {
        let logger = logging.bootstrap()
        let overrides: [ConfigOverride]
        let configuration: AgentConfiguration
        do {
            overrides = try self.overrides()
            configuration = try ConfigLoader.load(file: config, overrides: overrides)
        } catch let error as ConfigError {
            throw ValidationError.failure(error.description)
        }
        let source = ConfigSource(file: config, overrides: overrides)
        let agent = Agent(configuration: configuration, source: source, logger: logger)
        // The agent's service group stops it in order on SIGTERM or SIGINT.
        do {
            try await reportingKernelErrors { try await agent.run() }
        } catch let held as PinWriterLock.Held {
            throw ValidationError.failure("\(held): one agent per pin root")
        }
    }
}

/// Runs `body` until SIGINT or SIGTERM, then cancels it and waits for it to finish.
enum SignalHandling {
    @discardableResult
    static func runUntilTerminated<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task { try await body() }
        let sources = [SIGINT, SIGTERM].map { signalNumber -> DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { work.cancel() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        return try await work.value
    }
}
