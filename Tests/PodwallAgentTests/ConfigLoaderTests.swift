import Foundation
@testable import PodwallAgent
import PodwallCapture
import PodwallCore
import PodwallDetection
import Testing
import Yams

@Suite struct ConfigLoaderTests {
    func load(_ yaml: String? = nil, _ overrides: [String] = []) throws -> AgentConfiguration {
        var path: String?
        if let yaml {
            path = NSTemporaryDirectory() + "podwall-config-\(UUID().uuidString).yaml"
            try yaml.write(toFile: path!, atomically: true, encoding: .utf8)
        }
        defer { path.map { try? FileManager.default.removeItem(atPath: $0) } }
        return try ConfigLoader.load(file: path, overrides: overrides.map(ConfigOverride.parse))
    }

    func error(_ yaml: String?, _ overrides: [String] = []) -> String {
        do {
            _ = try load(yaml, overrides)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func theDocumentedDefaultsAreTheAgentsDefaults() throws {
        let loaded = try load(), builtIn = AgentConfiguration()
        #expect(loaded.interfaces == builtIn.interfaces && loaded.pinRoot == builtIn.pinRoot)
        #expect(loaded.flowEntries == builtIn.flowEntries && loaded.idleTimeoutSeconds == builtIn.idleTimeoutSeconds)
        #expect(loaded.statsIntervalSeconds == builtIn.statsIntervalSeconds && loaded.logFlows == builtIn.logFlows)
        #expect(loaded.cgroupPath == builtIn.cgroupPath && loaded.allow == builtIn.allow && loaded.feeds.isEmpty)
        #expect(loaded.feedURLPollSeconds == builtIn.feedURLPollSeconds && loaded.feedMode == builtIn.feedMode)
        #expect(loaded.detection == builtIn.detection, "detectors, cluster CIDRs and responses")
        #expect(loaded.captureDirectory == builtIn.captureDirectory && loaded.captureLimits == builtIn.captureLimits)
        #expect(loaded.alertCapture == builtIn.alertCapture)
        #expect(loaded.apiAddress == builtIn.apiAddress && loaded.apiTokenFile == builtIn.apiTokenFile)
        #expect(loaded.alertsPath == builtIn.alertsPath && loaded.detection.cadence == builtIn.detection.cadence)
        #expect(loaded.procRoot == builtIn.procRoot && loaded.kubelet == builtIn.kubelet)
    }

    /// One override per key, and what it must change. Every key of the defaults must be here.
    static let overrides: [(String, String, @Sendable (AgentConfiguration) -> Bool)] = [
        ("interfaces", "[lxc*]", { $0.interfaces == [InterfacePattern("lxc*")] }),
        ("pin_root", "/sys/fs/bpf/other", { $0.pinRoot == "/sys/fs/bpf/other" }),
        ("flow_entries", "4096", { $0.flowEntries == 4096 }),
        ("tc_attach", "clsact", { $0.attachMode == .clsact }),
        ("idle_timeout_seconds", "30", { $0.idleTimeoutSeconds == 30 }),
        ("stats_interval_seconds", "5", { $0.statsIntervalSeconds == 5 }),
        ("log_flows", "true", { $0.logFlows }),
        ("cgroup", "/sys/fs/cgroup/kubepods.slice", { $0.cgroupPath == "/sys/fs/cgroup/kubepods.slice" }),
        ("cluster_cidrs", "[10.244.0.0/16]", { $0.detection.exfiltration.clusterCIDRs == [IPPrefix("10.244.0.0/16")!] }),
        ("allow", "[10.96.0.10/32]", { $0.allow == [IPPrefix("10.96.0.10/32")!] }),
        ("feeds.sources", "[/etc/podwall/feeds]", { $0.feeds.map(\.path) == ["/etc/podwall/feeds"] }),
        ("feeds.config", "\"\(FileManager.default.currentDirectoryPath)/blocklists/feeds.yaml\"", { _ in true }),
        ("feeds.lenient", "true", { $0.feedMode == .lenient }),
        ("feeds.allow_broad", "true", { $0.feedPolicy.allowBroad }),
        ("feeds.min_prefix_v4", "16", { $0.feedPolicy.minimumIPv4PrefixLength == 16 }),
        ("feeds.min_prefix_v6", "48", { $0.feedPolicy.minimumIPv6PrefixLength == 48 }),
        ("feeds.url_interval_seconds", "600", { $0.feedURLPollSeconds == 600 }),
        ("detection.http_ports", "[80, 8080]", { $0.detection.protocolMismatch.httpPorts == [80, 8080] }),
        (
            "detection.exfiltration.interval_seconds", "4",
            { $0.detection.exfiltration.intervalNs == 4_000_000_000 && $0.detection.cadence.sampleNs == 1_000_000_000 }
        ),
        ("detection.exfiltration.warmup_intervals", "3", { $0.detection.exfiltration.warmupIntervals == 3 }),
        ("detection.exfiltration.floor_bytes", "1000", { $0.detection.exfiltration.floorBytes == 1000 }),
        (
            "detection.scan.allow_sources", "[10.1.2.3, 10.9.0.0/16]",
            { $0.detection.scan.allowlistedSources == [IPPrefix("10.1.2.3/32")!, IPPrefix("10.9.0.0/16")!] }
        ),
        ("detection.scan.false_positive_probability", "0.02", { $0.detection.scan.falsePositiveProbability == 0.02 }),
        ("detection.scan.vertical_ports", "30", { $0.detection.scan.verticalPortThreshold == 30 }),
        ("detection.scan.horizontal_hosts", "50", { $0.detection.scan.horizontalHostThreshold == 50 }),
        ("responses.port_scan", "alert", { $0.detection.policy.portScan == .alertOnly }),
        ("responses.exfiltration", "block:30m", { $0.detection.policy.exfiltration == ResponseRule(blockTTLSeconds: 1800) }),
        ("responses.protocol_mismatch", "quarantine", { $0.detection.policy.protocolMismatch == ResponseRule(quarantineTTLSeconds: 600) }),
        ("responses.blocklist_hit", "alert+capture", { $0.detection.policy.blocklistHit == ResponseRule(capture: true) }),
        ("capture.enabled", "false", { $0.captureDirectory == nil }),
        ("capture.directory", "/srv/pcaps", { $0.captureDirectory == "/srv/pcaps" }),
        ("capture.max_file_mib", "8", { $0.captureLimits.budget.maxFileBytes == 8 << 20 }),
        ("capture.disk_budget_mib", "100", { $0.captureLimits.budget.maxTotalBytes == 100 << 20 }),
        ("capture.packets", "50", { $0.alertCapture.maxPackets == 50 }),
        ("capture.seconds", "5", { $0.alertCapture.durationSeconds == 5 }),
        ("capture.snaplen", "1500", { $0.alertCapture.snaplen == 1500 }),
        ("api.address", "0.0.0.0:8080", { $0.apiAddress == APIAddress("0.0.0.0:8080") }),
        ("api.token_file", "/run/secrets/token", { $0.apiTokenFile == "/run/secrets/token" }),
        ("alerts.file", "/var/log/podwall.jsonl", { $0.alertsPath == "/var/log/podwall.jsonl" }),
        ("alerts.update_interval", "30s", { $0.detection.updateIntervalNs == 30_000_000_000 }),
        ("responses.quarantine_drop", "alert+capture", { $0.detection.policy.quarantineDrop == ResponseRule(capture: true) }),
        ("kubernetes.proc_root", "/host/proc", { $0.procRoot == "/host/proc" }),
        ("kubernetes.kubelet_pods_url", "https://127.0.0.1:10250/pods", { $0.kubelet.podsURL == "https://127.0.0.1:10250/pods" }),
        ("kubernetes.token_file", "/var/run/token", { $0.kubelet.tokenFile == "/var/run/token" }),
        ("kubernetes.insecure_skip_tls_verify", "true", { $0.kubelet.insecureSkipTLSVerify }),
        ("responses.reverse_shell", "alert", { $0.detection.policy.reverseShell == .alertOnly }),
        ("responses.network_tool", "block:1h", { $0.detection.policy.networkTool == ResponseRule(blockTTLSeconds: 3600) }),
        ("processes.enabled", "false", { !$0.processesEnabled }),
        ("processes.shells", "[sh, bash]", { $0.detection.processRules.shells == ["sh", "bash"] }),
        ("processes.network_tools", "[nc]", { $0.detection.processRules.networkTools == ["nc"] }),
        ("processes.denied", "[xmrig]", { $0.detection.processRules.denied == ["xmrig"] }),
        ("processes.ring_bytes", "65536", { $0.processEventBufferBytes == 65536 }),
        ("processes.learning_seconds", "30", { $0.detection.processBaseline.learningNs == 30_000_000_000 }),
        ("processes.allowed", "[/usr/bin/id]", { $0.detection.processBaseline.allowed == ["/usr/bin/id"] }),
        ("responses.unexpected_process", "alert+capture", { $0.detection.policy.unexpectedProcess == ResponseRule(capture: true) }),
        ("responses.flood", "quarantine:5m", { $0.detection.policy.flood == ResponseRule(quarantineTTLSeconds: 300) }),
        ("events.pod_events_per_second", "0", { $0.podEventsPerSecond == 0 }),
        ("events.ring_bytes", "65536", { $0.eventBufferBytes == 65536 }),
        ("events.pod_event_burst", "100", { $0.podEventBurst == 100 }),
        ("responses.sensitive_write", "kill", { $0.detection.policy.sensitiveWrite == ResponseRule(kill: true) }),
        ("responses.sensitive_read", "quarantine:1h", { $0.detection.policy.sensitiveRead == ResponseRule(quarantineTTLSeconds: 3600) }),
        ("responses.breakout", "alert", { $0.detection.policy.breakout == .alertOnly }),
        ("responses.drop_execute", "alert", { $0.detection.policy.dropExecute == .alertOnly }),
        ("files.enabled", "false", { !$0.filesEnabled }),
        ("files.default_rules", "false", { $0.detection.fileRules.rules.isEmpty }),
        ("files.watch_writes", "[/srv/app/config/]", { $0.detection.fileRules.rule(id: nil, path: "/srv/app/config/x")?.access == .write }),
        ("files.sensitive_reads", "[/srv/key.pem]", { $0.detection.fileRules.rule(id: nil, path: "/srv/key.pem")?.names == ["key.pem"] }),
        ("files.deny_writes", "[/etc/hosts]", { $0.detection.fileRules.rule(id: nil, path: "/etc/hosts")?.access == [.write, .kill] }),
        ("files.no_exec", "[/run/]", { $0.detection.fileRules.rule(id: nil, path: "/run/x")?.access == .noExec })
    ]

    static func leafKeys(_ node: Node, _ path: String = "") -> [String] {
        guard case .mapping(let mapping) = node else { return [path] }
        return mapping.flatMap { key, value in leafKeys(value, path.isEmpty ? key.string! : path + "." + key.string!) }
    }

    @Test func everyKeyCanBeSetFromTheFileAndFromTheCommandLine() throws {
        let keys = Self.leafKeys(try ConfigLoader.defaults())
        #expect(Set(keys) == Set(Self.overrides.map(\.0)), "a test case for every documented key")
        for (key, value, check) in Self.overrides {
            #expect(check(try load(nil, ["\(key)=\(value)"])), "--set \(key)=\(value)")
            let parts = key.split(separator: ".")
            var yaml = ""
            for (depth, part) in parts.enumerated() {
                yaml += String(repeating: "  ", count: depth) + part + ":" + (depth == parts.count - 1 ? " \(value)\n" : "\n")
            }
            #expect(check(try load(yaml)), "file: \(yaml)")
        }
    }

    @Test func theCommandLineWinsOverTheFile() throws {
        let config = try load("flow_entries: 2048\ncapture:\n  snaplen: 100\n", ["flow_entries=8192"])
        #expect(config.flowEntries == 8192 && config.alertCapture.snaplen == 100)
    }

    @Test(arguments: [
        ("flow_entries: 10", "flow_entries: must be at least 1024"),
        ("flow_entries: lots", "flow_entries: expected a whole number"),
        ("tc_attach: xdp", "tc_attach: 'xdp' is not one of auto, tcx, clsact"),
        ("capture:\n  snaplen: 40000", "capture.snaplen: must be 1-32704"),
        ("feeds:\n  min_prefix_v4: 40", "feeds.min_prefix_v4: must be 0-32"),
        ("capture:\n  max_file_mib: 64\n  disk_budget_mib: 10", "capture.disk_budget_mib: must be at least capture.max_file_mib"),
        ("allow: [10.0.0.0/33]", "allow[0]: '10.0.0.0/33' is not an address or CIDR"),
        ("cluster_cidrs: [banana]", "cluster_cidrs[0]: 'banana' is not a CIDR"),
        ("cluster_cidrs: [10.244.1.0/16]", "cluster_cidrs[0]: '10.244.1.0/16' has host bits set; did you mean 10.244.0.0/16?"),
        ("allow: [10.96.0.10/24]", "allow[0]: '10.96.0.10/24' has host bits set; did you mean 10.96.0.0/24?"),
        ("responses:\n  port_scan: explode", "responses.port_scan:"),
        ("responses:\n  portscan: alert", "responses.portscan: unknown key"),
        ("captur:\n  snaplen: 1", "captur: unknown key"),
        ("capture: 5", "capture: must be a mapping"),
        ("api:\n  address: nowhere", "api.address: 'nowhere' is not HOST:PORT"),
        ("log_flows: perhaps", "log_flows: expected true or false"),
        ("detection:\n  http_ports: [0]", "detection.http_ports: name at least one port"),
        ("detection:\n  scan:\n    false_positive_probability: 0.5", "detection.scan.false_positive_probability: must be 0.001-0.1"),
        ("detection:\n  scan:\n    allow_sources: [10.0.0.300]", "detection.scan.allow_sources[0]: '10.0.0.300' is not an address or CIDR"),
        ("detection:\n  scan:\n    vertical_ports: 1", "detection.scan.vertical_ports: must be at least 2"),
        ("feeds:\n  config: /nonexistent/feeds.yaml", "feeds.config: /nonexistent/feeds.yaml: cannot read"),
        ("- a\n- b", "the config is a mapping of keys"),
        ("processes:\n  shells: [/bin/sh]", "processes.shells[0]: '/bin/sh' is not a program name"),
        ("processes:\n  denied: [a-name-longer-than-15]", "processes.denied[0]:"),
        ("processes:\n  ring_bytes: 5000", "processes.ring_bytes: must be a power of two"),
        ("responses:\n  port_scan: kill", "kill is for kinds judged in the kernel"),
        ("files:\n  watch_writes: [etc/passwd]", "files.watch_writes[0]: 'etc/passwd' is not an absolute, normalized path"),
        ("files:\n  sensitive_reads: [/srv/keys/]", "files.sensitive_reads[0]: '/srv/keys/' must name a file")
    ])
    func invalidValuesAreRejectedNamingTheKey(yaml: String, expected: String) {
        let message = error(yaml)
        #expect(message.contains(expected), "\(message)")
        #expect(message.contains("podwall-config-"), "and the file: \(message)")
    }

    @Test func badOverridesNameTheirKey() {
        #expect(error(nil, ["capture.snaplenn=5"]).contains("--set capture.snaplenn: unknown key"))
        #expect(error(nil, ["flow_entries=12"]).contains("flow_entries: must be at least 1024"))
        #expect(throws: ConfigError.self) { try ConfigOverride.parse("no-equals-sign") }
    }

    @Test func printedDefaultsAreValidYAMLWithEveryKeyCommented() throws {
        let lines = ConfigDefaults.yaml.split(separator: "\n")
        #expect(try Yams.compose(yaml: ConfigDefaults.yaml) != nil)
        #expect(lines.filter { $0.hasPrefix("#") || $0.contains(" #") }.count >= 20)
    }
}

@Suite struct ShippedConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theKubernetesConfigMapHoldsAValidConfig() throws {
        let manifest = try String(contentsOf: Self.repository.appendingPathComponent("deploy/kubernetes/configmap.yaml"), encoding: .utf8)
        let configMap = try #require(try Yams.load(yaml: manifest) as? [String: Any])
        let text = try #require((configMap["data"] as? [String: Any])?["podwall.yaml"] as? String)
        let path = NSTemporaryDirectory() + "podwall-configmap-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Its feeds file is the ConfigMap's other key, mounted next to it on a node.
        let config = try ConfigLoader.load(file: path, overrides: [try ConfigOverride.parse("feeds.config=null")])
        #expect(config.procRoot == "/host/proc" && config.kubelet.podsURL != nil)
    }
}
