import PodwallCapture
import PodwallCore
import PodwallDetection
import PodwallKernel

extension ConfigLoader {
    /// Checks every value and turns the file's model into the agent's.
    static func resolve(_ file: ConfigFile, origin: String) throws -> AgentConfiguration {
        func invalid(_ key: String, _ problem: String) -> ConfigError { ConfigError("\(origin): \(key): \(problem)") }
        /// `what`: what the key holds, for the error; host bits are refused naming the prefix meant.
        func prefixes(_ texts: [String], _ key: String, are what: String) throws -> [IPPrefix] {
            try texts.enumerated().map { index, text in
                switch IPPrefix.parse(text) {
                case .success(let parsed):
                    return parsed
                case .failure(let error):
                    if case .hostBitsSet = error { throw invalid("\(key)[\(index)]", error.explanation(for: text)) }
                    throw invalid("\(key)[\(index)]", "'\(text)' is not \(what)")
                }
            }
        }
        var config = AgentConfiguration()
        guard !file.interfaces.isEmpty else { throw invalid("interfaces", "name at least one pattern") }
        config.interfaces = file.interfaces.map(InterfacePattern.init)
        guard file.pin_root.hasPrefix("/") else { throw invalid("pin_root", "must be an absolute path") }
        config.pinRoot = file.pin_root
        guard file.flow_entries >= 1024 else { throw invalid("flow_entries", "must be at least 1024") }
        config.flowEntries = file.flow_entries
        guard let attachMode = TCAttachMode(rawValue: file.tc_attach) else {
            throw invalid("tc_attach", "'\(file.tc_attach)' is not one of \(TCAttachMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        config.attachMode = attachMode
        guard file.idle_timeout_seconds > 0 else { throw invalid("idle_timeout_seconds", "must be positive") }
        config.idleTimeoutSeconds = file.idle_timeout_seconds
        guard file.stats_interval_seconds > 0 else { throw invalid("stats_interval_seconds", "must be positive") }
        config.statsIntervalSeconds = file.stats_interval_seconds
        config.logFlows = file.log_flows
        config.cgroupPath = file.cgroup
        config.allow = try prefixes(file.allow, "allow", are: "an address or CIDR")
        config.detection.exfiltration.clusterCIDRs = try prefixes(file.cluster_cidrs, "cluster_cidrs", are: "a CIDR")
        let exfiltration = file.detection.exfiltration
        guard exfiltration.interval_seconds >= 1 else { throw invalid("detection.exfiltration.interval_seconds", "must be at least 1") }
        guard exfiltration.warmup_intervals >= 1 else { throw invalid("detection.exfiltration.warmup_intervals", "must be at least 1") }
        config.detection.exfiltration.intervalNs = UInt64(exfiltration.interval_seconds * 1e9)
        config.detection.exfiltration.warmupIntervals = exfiltration.warmup_intervals
        config.detection.exfiltration.floorBytes = exfiltration.floor_bytes
        guard !file.detection.http_ports.isEmpty, !file.detection.http_ports.contains(0) else {
            throw invalid("detection.http_ports", "name at least one port, 1-65535")
        }
        config.detection.protocolMismatch.httpPorts = file.detection.http_ports
        let scan = file.detection.scan
        config.detection.scan.allowlistedSources = try prefixes(
            scan.allow_sources, "detection.scan.allow_sources", are: "an address or CIDR")
        guard (0.001...0.1).contains(scan.false_positive_probability) else {
            throw invalid("detection.scan.false_positive_probability", "must be 0.001-0.1")
        }
        config.detection.scan.falsePositiveProbability = scan.false_positive_probability
        guard scan.vertical_ports >= 2 else { throw invalid("detection.scan.vertical_ports", "must be at least 2") }
        guard scan.horizontal_hosts >= 2 else { throw invalid("detection.scan.horizontal_hosts", "must be at least 2") }
        config.detection.scan.verticalPortThreshold = scan.vertical_ports
        config.detection.scan.horizontalHostThreshold = scan.horizontal_hosts
        for (kind, action) in file.responses {
            do {
                let (parsedKind, rule) = try ResponseOption.parse("\(kind)=\(action)")
                config.detection.policy[parsedKind] = rule
            } catch let error as ResponseOption.Invalid {
                throw invalid("responses.\(kind)", error.description.replacingOccurrences(of: "--response ", with: ""))
            }
        }

        config.feeds = file.feeds.sources.map { FeedSource(name: FeedSource.defaultName(for: $0), path: $0) }
        if let feedsFile = file.feeds.config {
            do {
                config.feeds += try FeedsConfiguration.load(feedsFile).feeds
            } catch let error as FeedsConfiguration.Invalid {
                throw invalid("feeds.config", error.description)
            }
        }
        config.feedMode = file.feeds.lenient ? .lenient : .strict
        config.feedPolicy.minimumIPv4PrefixLength = file.feeds.min_prefix_v4
        config.feedPolicy.minimumIPv6PrefixLength = file.feeds.min_prefix_v6
        if let family = config.feedPolicy.familyWithInvalidMinimum {
            throw invalid("feeds.min_prefix_\(family == .v4 ? "v4" : "v6")", "must be 0-\(family.maxPrefixLength)")
        }
        config.feedPolicy.allowBroad = file.feeds.allow_broad
        guard file.feeds.url_interval_seconds >= 1 else { throw invalid("feeds.url_interval_seconds", "must be at least 1") }
        config.feedURLPollSeconds = file.feeds.url_interval_seconds

        let capture = file.capture
        guard capture.max_file_mib >= 1 else { throw invalid("capture.max_file_mib", "must be at least 1") }
        guard capture.disk_budget_mib >= capture.max_file_mib else {
            throw invalid("capture.disk_budget_mib", "must be at least capture.max_file_mib")
        }
        guard capture.packets >= 1 else { throw invalid("capture.packets", "must be at least 1") }
        guard capture.seconds > 0 else { throw invalid("capture.seconds", "must be positive") }
        guard (1...CaptureTable.maxSnaplen).contains(capture.snaplen) else {
            throw invalid("capture.snaplen", "must be 1-\(CaptureTable.maxSnaplen)")
        }
        config.captureDirectory = capture.enabled ? capture.directory : nil
        config.captureLimits.budget = CaptureBudget(maxFileBytes: capture.max_file_mib << 20, maxTotalBytes: capture.disk_budget_mib << 20)
        config.alertCapture.maxPackets = capture.packets
        config.alertCapture.durationSeconds = capture.seconds
        config.alertCapture.snaplen = capture.snaplen

        if file.api.address.isEmpty {
            config.apiAddress = nil
        } else {
            guard let address = APIAddress(file.api.address) else { throw invalid("api.address", "'\(file.api.address)' is not HOST:PORT") }
            config.apiAddress = address
        }
        config.apiTokenFile = file.api.token_file
        config.alertsPath = file.alerts.file
        guard let updateInterval = GoDuration.seconds(file.alerts.update_interval), updateInterval >= 1 else {
            throw invalid("alerts.update_interval", "'\(file.alerts.update_interval)' is not a duration of at least 1s, such as 10s or 1m")
        }
        config.detection.updateIntervalNs = UInt64(updateInterval * 1e9)
        config.processesEnabled = file.processes.enabled
        for (key, names) in [
            ("shells", file.processes.shells), ("network_tools", file.processes.network_tools), ("denied", file.processes.denied)
        ] {
            for (index, name) in names.enumerated() where name.isEmpty || name.utf8.count > 15 || name.contains("/") {
                throw invalid(
                    "processes.\(key)[\(index)]",
                    "'\(name)' is not a program name (a binary's basename, 1-15 bytes, as the kernel's comm holds it)")
            }
        }
        config.detection.processRules.shells = Set(file.processes.shells)
        config.detection.processRules.networkTools = Set(file.processes.network_tools)
        config.detection.processRules.denied = Set(file.processes.denied)
        guard file.processes.learning_seconds >= 0 else { throw invalid("processes.learning_seconds", "must be 0 (off) or more") }
        config.detection.processBaseline.learningNs = UInt64(file.processes.learning_seconds * 1e9)
        config.detection.processBaseline.allowed = Set(file.processes.allowed)
        config.filesEnabled = file.files.enabled
        config.detection.fileRules = try fileRules(file.files, origin: origin)
        let ring = file.processes.ring_bytes
        guard ring >= 4096, ring & (ring - 1) == 0 else { throw invalid("processes.ring_bytes", "must be a power of two of at least 4096") }
        config.processEventBufferBytes = ring
        let flowRing = file.events.ring_bytes
        guard flowRing >= 4096, flowRing & (flowRing - 1) == 0 else {
            throw invalid("events.ring_bytes", "must be a power of two of at least 4096")
        }
        config.eventBufferBytes = flowRing
        config.podEventsPerSecond = file.events.pod_events_per_second
        guard file.events.pod_events_per_second == 0 || file.events.pod_event_burst >= 1 else {
            throw invalid("events.pod_event_burst", "must be at least 1 while events.pod_events_per_second is set")
        }
        config.podEventBurst = file.events.pod_event_burst
        config.procRoot = file.kubernetes.proc_root
        if let url = file.kubernetes.kubelet_pods_url, !FeedDownloader.isURL(url) {
            throw invalid("kubernetes.kubelet_pods_url", "'\(url)' is not an http(s) URL")
        }
        config.kubelet = KubeletSettings(
            podsURL: file.kubernetes.kubelet_pods_url, tokenFile: file.kubernetes.token_file,
            insecureSkipTLSVerify: file.kubernetes.insecure_skip_tls_verify)
        return config
    }
}

/// Where the HTTP API listens.
public struct APIAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
