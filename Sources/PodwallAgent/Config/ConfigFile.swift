import Yams

/// podwall.yaml as decoded, after the defaults, the file and the command
/// line's overrides are merged. Property names are the YAML keys.
struct ConfigFile: Decodable {
    struct Feeds: Decodable {
        var sources: [String]
        var config: String?
        var lenient: Bool
        var allow_broad: Bool
        var min_prefix_v4: Int
        var min_prefix_v6: Int
        var url_interval_seconds: Double
    }

    struct Exfiltration: Decodable {
        var interval_seconds: Double
        var warmup_intervals: Int
        var floor_bytes: UInt64
    }

    struct Scan: Decodable {
        var allow_sources: [String]
        var false_positive_probability: Double
        var vertical_ports: Int
        var horizontal_hosts: Int
    }

    struct Detection: Decodable {
        var http_ports: [UInt16]
        var exfiltration: Exfiltration
        var scan: Scan
    }

    struct Capture: Decodable {
        var enabled: Bool
        var directory: String
        var max_file_mib: Int64
        var disk_budget_mib: Int64
        var packets: UInt64
        var seconds: Double
        var snaplen: UInt32
    }

    struct API: Decodable {
        var address: String
        var token_file: String?
    }

    struct Alerts: Decodable {
        var file: String?
        var update_interval: String
    }

    struct Processes: Decodable {
        var enabled: Bool
        var shells: [String]
        var network_tools: [String]
        var denied: [String]
        var learning_seconds: Double
        var allowed: [String]
        var ring_bytes: UInt32
    }

    struct Files: Decodable {
        var enabled: Bool
        var default_rules: Bool
        var watch_writes: [String]
        var sensitive_reads: [String]
        var deny_writes: [String]
        var no_exec: [String]
    }

    struct Events: Decodable {
        var ring_bytes: UInt32
        var pod_events_per_second: UInt32
        var pod_event_burst: UInt32
    }

    struct Kubernetes: Decodable {
        var proc_root: String
        var kubelet_pods_url: String?
        var token_file: String?
        var insecure_skip_tls_verify: Bool
    }

    var interfaces: [String]
    var pin_root: String
    var flow_entries: UInt32
    var tc_attach: String
    var idle_timeout_seconds: Double
    var stats_interval_seconds: Double
    var log_flows: Bool
    var cgroup: String?
    var cluster_cidrs: [String]
    var allow: [String]
    var feeds: Feeds
    var detection: Detection
    var responses: [String: String]
    var capture: Capture
    var api: API
    var alerts: Alerts
    var processes: Processes
    var files: Files
    var events: Events
    var kubernetes: Kubernetes
}

/// One `key.path=value` override from the command line; the value is YAML
/// (`--set allow=[10.96.0.10/32]`, `--set alerts.file=null`).
public struct ConfigOverride: @unchecked Sendable, Equatable {  // Node is an immutable value
    public let key: String
    let value: Node

    public init(key: String, yaml text: String) throws {
        self.key = key
        do {
            value = try Yams.compose(yaml: text) ?? Node("")
        } catch {
            throw ConfigError("--set \(key)=\(text): not a YAML value")
        }
    }

    public init(key: String, _ value: String) {
        self.key = key
        self.value = Node(value, .implicit, .doubleQuoted)
    }

    public init(key: String, _ values: [String]) {
        self.key = key
        value = Node(values.map { Node($0, .implicit, .doubleQuoted) })
    }

    /// `key.path=value`.
    public static func parse(_ text: String) throws -> ConfigOverride {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ConfigError("--set '\(text)': write it as key.path=value")
        }
        return try ConfigOverride(key: String(text[..<equals]), yaml: String(text[text.index(after: equals)...]))
    }
}

public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
