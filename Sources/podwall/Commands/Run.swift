import ArgumentParser
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
            it to every interface whose name matches --interfaces, now and as pods come and \
            go, and tracks every flow. Ctrl-C or SIGTERM stops the agent; the programs and \
            pinned maps stay, so traffic keeps being tracked and a restarted agent adopts \
            them. `podwall uninstall` removes everything.

            Examples:
              podwall run                          # default CNI veth patterns
              podwall run --interfaces 'lxc*'      # Cilium host veths only
              podwall run --log-flows --debug
              podwall run --feed /etc/podwall/feeds --allow 10.96.0.10/32 --cgroup /sys/fs/cgroup/kubepods.slice
            """
    )

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Interface name pattern to attach to (shell glob; repeat for more). Default: \(InterfacePattern.defaults.map(\.text).joined(separator: " ")).",
        valueName: "pattern"))
    var interfaces: [String] = []

    @Option(name: .long, help: "Flow table size (LRU entries).")
    var flowEntries: UInt32 = 262_144

    @Option(name: .long, help: ArgumentHelp("Report and remove flows idle this long.", valueName: "seconds"))
    var idleTimeout: Double = 120

    @Option(name: .long, help: ArgumentHelp("Log kernel counters this often.", valueName: "seconds"))
    var statsInterval: Double = 30

    @Flag(name: .long, help: "Log every flow event (new, payload, end).")
    var logFlows = false

    @Option(name: .long, help: ArgumentHelp(
        "The pods' cgroup v2 directory for the connect()/sendmsg() hooks (default: kubepods under the cgroup v2 mount).",
        valueName: "path"))
    var cgroup: String?

    @Flag(name: .long, help: "Do not attach the cgroup socket hooks (TC still drops).")
    var noCgroup = false

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Never block this destination (cluster DNS, API server, node CIDRs); repeat for more.", valueName: "cidr"))
    var allow: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "A blocklist feed: a file or directory (reloaded when it changes) or an http(s) URL (polled); repeat for more.",
        valueName: "path|url"))
    var feed: [String] = []

    @Option(name: .long, help: ArgumentHelp("How often feed URLs are downloaded again (conditional requests).", valueName: "seconds"))
    var feedInterval: Double = 3600

    @Option(name: .long, help: ArgumentHelp(
        "A feeds file (YAML): the enabled feeds in it are loaded and kept up to date, as with --feed. See blocklists/feeds.yaml.",
        valueName: "file"))
    var feedsConfig: String?

    @Flag(name: .long, help: "Skip bad feed lines instead of rejecting the feed.")
    var lenient = false

    @Option(name: .long, help: ArgumentHelp("Append alerts (JSON lines) to this file instead of stdout.", valueName: "file"))
    var alerts: String?

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Pod and service CIDRs: traffic inside them is never counted as exfiltration (default: RFC 1918, CGNAT and ULA ranges); repeat for more.",
        valueName: "cidr"))
    var clusterCIDR: [String] = []

    @Flag(name: .long, help: "Only alert: no quarantine or block responses.")
    var alertOnly = false

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "Response to a kind of alert: KIND=alert|block|quarantine[:TTL][+capture], e.g. port_scan=alert or exfiltration=block:30m+capture. Defaults: port_scan=quarantine:10m+capture, exfiltration=block:1h+capture, protocol_mismatch=block:1h+capture, blocklist_hit=alert.",
        valueName: "kind=action"))
    var response: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "A TCP port where only HTTP is expected (default 80); repeat for more.", valueName: "port"))
    var httpPort: [UInt16] = []

    @Option(name: .long, help: ArgumentHelp("Exfiltration: length of one volume interval.", valueName: "seconds"))
    var exfilInterval: Double = 10

    @Option(name: .long, help: ArgumentHelp("Exfiltration: quiet intervals learned before alerting.", valueName: "count"))
    var exfilWarmup: Int = 6

    @Option(name: .long, help: ArgumentHelp("Exfiltration: never alert below this many bytes per interval.", valueName: "bytes"))
    var exfilFloor: UInt64 = 10_000_000

    @Option(name: .long, help: ArgumentHelp("Where alert captures (pcap files) go.", valueName: "dir"))
    var captureDir: String = CaptureStore.defaultDirectory

    @Flag(name: .long, help: "Turn the capture response off.")
    var noCaptures = false

    @Option(name: .long, help: ArgumentHelp("Cap on one capture file.", valueName: "MiB"))
    var captureFileMB: Int64 = 64

    @Option(name: .long, help: ArgumentHelp("Disk budget of the capture directory; the oldest finished captures are evicted.", valueName: "MiB"))
    var captureDiskMB: Int64 = 1024

    @Option(name: .long, help: ArgumentHelp("Packet budget of one alert capture (enforced in the kernel).", valueName: "count"))
    var capturePackets: UInt64 = 10_000

    @Option(name: .long, help: ArgumentHelp("How long an alert capture runs (enforced in the kernel).", valueName: "seconds"))
    var captureSeconds: Double = 60

    @Option(name: .long, help: ArgumentHelp("Bytes kept of each captured packet.", valueName: "bytes"))
    var captureSnaplen: UInt32 = CaptureRequest.defaultSnaplen

    @OptionGroup var pins: PinOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard flowEntries >= 1024 else { throw ValidationError("--flow-entries must be at least 1024") }
        guard idleTimeout > 0, statsInterval > 0, exfilInterval >= 1 else {
            throw ValidationError("timeouts and intervals must be positive (--exfil-interval at least 1 s)")
        }
        guard captureFileMB >= 1, captureDiskMB >= captureFileMB, capturePackets >= 1, captureSeconds > 0,
              (1...CaptureTable.maxSnaplen).contains(captureSnaplen) else {
            throw ValidationError("capture limits: --capture-file-mb >= 1, --capture-disk-mb >= --capture-file-mb, --capture-packets >= 1, --capture-seconds > 0, --capture-snaplen 1...\(CaptureTable.maxSnaplen)")
        }
    }

    func run() async throws {
        let logger = logging.bootstrap()
        var configuration = AgentConfiguration()
        if !interfaces.isEmpty { configuration.interfaces = interfaces.map(InterfacePattern.init) }
        configuration.pinRoot = pins.pinRoot
        configuration.flowEntries = flowEntries
        configuration.idleTimeoutSeconds = idleTimeout
        configuration.statsIntervalSeconds = statsInterval
        configuration.logFlows = logFlows
        configuration.cgroupPath = noCgroup ? "" : cgroup
        configuration.allow = try allow.map(parsePrefix)
        configuration.feeds = feed.map { FeedSource(name: FeedSource.defaultName(for: $0), path: $0) }
        if let feedsConfig {
            do {
                configuration.feeds += try FeedsConfiguration.load(feedsConfig).feeds
            } catch let error as FeedsConfiguration.Invalid {
                throw ValidationError(error.description)
            }
        }
        configuration.feedMode = lenient ? .lenient : .strict
        configuration.feedURLPollSeconds = feedInterval
        configuration.alertsPath = alerts
        configuration.captureDirectory = noCaptures ? nil : captureDir
        configuration.captureLimits.budget = CaptureBudget(maxFileBytes: captureFileMB << 20, maxTotalBytes: captureDiskMB << 20)
        configuration.alertCapture.maxPackets = capturePackets
        configuration.alertCapture.durationSeconds = captureSeconds
        configuration.alertCapture.snaplen = captureSnaplen
        if !clusterCIDR.isEmpty {
            configuration.detection.exfiltration.clusterCIDRs = try clusterCIDR.map { text in
                guard let prefix = PodwallDetection.IPPrefix(text) else { throw ValidationError("'\(text)' is not a CIDR") }
                return prefix
            }
        }
        configuration.detection.exfiltration.intervalNs = UInt64(exfilInterval * 1e9)
        configuration.detection.exfiltration.warmupIntervals = exfilWarmup
        configuration.detection.exfiltration.floorBytes = exfilFloor
        configuration.sampleIntervalSeconds = min(2, exfilInterval / 4)
        if alertOnly {
            configuration.detection.policy = ResponsePolicy.alertOnly
        }
        for text in response {
            do {
                let (kind, rule) = try ResponseOption.parse(text)
                configuration.detection.policy[kind] = rule
            } catch let error as ResponseOption.Invalid {
                throw ValidationError(error.description)
            }
        }
        if !httpPort.isEmpty {
            configuration.detection.protocolMismatch.httpPorts = httpPort
        }
        let agent = Agent(configuration: configuration, logger: logger)
        try await reportingKernelErrors {
            try await SignalHandling.runUntilTerminated { try await agent.run() }
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

