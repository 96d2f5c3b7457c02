import PodwallCore
public enum AlertKind: String, Sendable, Codable, CaseIterable {
    case portScan = "port_scan"
    case exfiltration
    case protocolMismatch = "protocol_mismatch"
    case blocklistHit = "blocklist_hit"
    /// A packet of a quarantined pod's new flow, dropped by the quarantine.
    case quarantineDrop = "quarantine_drop"
    /// A shell whose input and output are a network connection.
    case reverseShell = "reverse_shell"
    /// A network tool (nc, curl, socat, ...) run in a pod.
    case networkTool = "network_tool"
    /// A binary the pod's workload did not run while its baseline was learned.
    case unexpectedProcess = "unexpected_process"
    /// A pod opening new flows past its event budget, fast (a SYN or UDP flood).
    case flood
    /// A write (create, delete, rename, chmod) under a sensitive path.
    case sensitiveWrite = "sensitive_write"
    /// A read of a secret by a program its workload did not read it with.
    case sensitiveRead = "sensitive_read"
    /// An attempt to reach out of the container (namespaces, mounts,
    /// modules, ptrace, the runtime's socket, core_pattern, ...).
    case breakout
    /// A program the pod wrote, or one with no file (memfd), run.
    case dropExecute = "drop_execute"

    /// Decided in the kernel at an exec or a syscall, where it can kill the process.
    public var isJudgedInKernel: Bool { [.reverseShell, .breakout, .dropExecute, .sensitiveWrite].contains(self) }

    /// Short tag that starts alert ids ("ps-1a2b...").
    var idPrefix: String {
        switch self {
        case .portScan: "ps"
        case .exfiltration: "ex"
        case .protocolMismatch: "pm"
        case .blocklistHit: "bl"
        case .quarantineDrop: "qd"
        case .reverseShell: "rs"
        case .networkTool: "nt"
        case .unexpectedProcess: "up"
        case .flood: "fl"
        case .sensitiveWrite: "sw"
        case .sensitiveRead: "sr"
        case .breakout: "bo"
        case .dropExecute: "de"
        }
    }
}

public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case low, medium, high, critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Who the alert is about: a pod, and when known its name, cgroup and process.
public struct AlertSource: Sendable, Equatable, Codable {
    public var address: IPAddress
    public var ifindex: UInt32
    /// The pod's host-side interface, filled by the agent.
    public var interface: String?
    public var podName: String?
    public var cgroupId: UInt64?
    public var process: AlertProcess?

    public init(address: IPAddress, ifindex: UInt32, podName: String? = nil, cgroupId: UInt64? = nil, process: AlertProcess? = nil) {
        self.address = address
        self.ifindex = ifindex
        self.podName = podName
        self.cgroupId = cgroupId
        self.process = process
    }

    public init(_ key: SourceKey) {
        self.init(address: key.address, ifindex: key.ifindex)
    }

    public var key: SourceKey { SourceKey(address: address, ifindex: ifindex) }

    enum CodingKeys: String, CodingKey {
        case address, ifindex, process, interface
        case podName = "pod_name"
        case cgroupId = "cgroup_id"
    }
}

/// One detection, as written to the JSON-lines alert log.
public struct Alert: Sendable, Equatable, Codable {
    /// Flows listed per alert at most.
    public static let maxFlows = 10

    /// Deterministic: kind + source + window start (see `AlertID`).
    public var id: String
    /// Decision time (the injected `now`), nanoseconds, and the same as RFC 3339 text.
    public var timeNs: UInt64
    public var time: String
    public var kind: AlertKind
    public var severity: Severity
    public var source: AlertSource
    /// Up to `maxFlows` flows involved, most relevant first.
    public var flows: [FlowKey]
    public var evidence: Evidence
    /// What this report asks the caller to perform; `[.none]` when nothing.
    public var actions: [ResponseAction]
    /// Decision time minus the timestamp of the packet (or sample) that decided it.
    public var detectionLatencyMs: Double
    /// Occurrences folded into this alert by the deduplicator (1 for a fresh alert).
    public var count: Int
    /// Occurrences since this alert's previous line (1 for a fresh alert): updates are
    /// coalesced, one line per update interval at most.
    public var newCount: Int
    /// True when this report is a repeat folded into an earlier alert of the same window.
    public var isUpdate: Bool
    public var windowStartNs: UInt64
    /// Time of the latest occurrence folded in.
    public var lastSeenNs: UInt64
    /// Filled by the agent: from the decision (an update's: its newest
    /// occurrence) to the responses being in force in the kernel (nil when
    /// none was taken, or in a replay).
    public var responseLatencyMs: Double?

    /// A fresh detection decided at `now` by the packet stamped `decidingNs`.
    public init(
        kind: AlertKind,
        severity: Severity,
        source: AlertSource,
        flows: [FlowKey],
        evidence: Evidence,
        decidingNs: UInt64,
        now: UInt64
    ) {
        self.id = AlertID.make(kind: kind, source: source.key, windowStartNs: now)
        self.timeNs = now
        self.time = Timestamp.rfc3339(nanoseconds: Int64(now), fractionDigits: 9)
        self.kind = kind
        self.severity = severity
        self.source = source
        self.flows = Array(flows.prefix(Self.maxFlows))
        self.evidence = evidence
        self.actions = []
        // Kernel and injected clocks can disagree by a hair; never report a negative latency.
        self.detectionLatencyMs = now > decidingNs ? Double(now - decidingNs) / 1_000_000 : 0
        self.count = 1
        self.newCount = 1
        self.isUpdate = false
        self.windowStartNs = now
        self.lastSeenNs = now
    }

    enum CodingKeys: String, CodingKey {
        case id, time, kind, severity, source, flows, evidence, actions, count
        case timeNs = "time_ns"
        case newCount = "new_count"
        case detectionLatencyMs = "detection_latency_ms"
        case isUpdate = "is_update"
        case windowStartNs = "window_start_ns"
        case lastSeenNs = "last_seen_ns"
        case responseLatencyMs = "response_latency_ms"
    }
}

extension Alert {
    /// Maps every absolute time of the alert (its own and its evidence's)
    /// onto another clock: the agent's detectors run on the kernel's
    /// monotonic clock, which wall-clock steps do not disturb, and its
    /// alerts carry Unix time. Durations and the id stay as they are.
    public mutating func mapTimes(_ convert: (UInt64) -> UInt64) {
        timeNs = convert(timeNs)
        time = Timestamp.rfc3339(nanoseconds: Int64(clamping: timeNs), fractionDigits: 9)
        windowStartNs = convert(windowStartNs)
        lastSeenNs = convert(lastSeenNs)
        switch evidence {
        case .portScan(var scan):
            scan.firstProbeNs = convert(scan.firstProbeNs)
            scan.lastProbeNs = convert(scan.lastProbeNs)
            evidence = .portScan(scan)
        case .exfiltration(var exfiltration):
            exfiltration.intervalStartNs = convert(exfiltration.intervalStartNs)
            evidence = .exfiltration(exfiltration)
        case .process(var process):
            process.execNs = convert(process.execNs)
            evidence = .process(process)
        case .flood(var flood):
            flood.intervalStartNs = convert(flood.intervalStartNs)
            evidence = .flood(flood)
        case .file(var file):
            file.eventNs = convert(file.eventNs)
            evidence = .file(file)
        case .protocolMismatch, .blocklistHit, .quarantineDrop:
            break
        }
    }
}
