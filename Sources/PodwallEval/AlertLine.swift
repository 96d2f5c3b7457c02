/// One line of the agent's alerts file, as the evaluation reads it: a fresh
/// alert, or an update of one (repeats folded into it since its previous line).
public struct AlertLine: Sendable, Equatable {
    public var id: String
    public var kind: String
    public var isUpdate: Bool
    /// The decision time of the alert (of its window's first occurrence), Unix ns.
    public var timeNs: Int64
    /// The decision time of the newest occurrence folded in; `timeNs` for a fresh alert.
    public var lastSeenNs: Int64
    public var sourceAddress: String?
    /// The pod's host-side interface, which `podwall quarantine release` takes.
    public var sourceInterface: String?
    /// The remote the evidence names (a blocklist hit's or a drop's destination).
    public var remote: String?
    /// What the line asked for and the agent carried out.
    public var quarantined: Bool
    public var blocked: [String]
    public var detectionLatencyMs: Double?
    public var responseLatencyMs: Double?
    /// A process alert's kill: true when the kernel killed the program (at
    /// its exec, or at its dup onto stdio), false when the agent did; nil: no kill.
    public var killedAtExec: Bool?
    /// The pod's name as the agent gives it (`pod-<UID>` for a pod known by its cgroup).
    public var podName: String?
    /// A process alert's program (the evidence's binary, else the process's).
    public var binary: String?
    /// What the evidence says was done (`evidence.technique`: "mount", "fileless", "socket_on_stdio").
    public var technique: String?
    /// A relayed shell whose relay the kernel killed at its connect()'s
    /// entry (`evidence.relay_killed`): the line then has no kill action.
    public var relayKilled: Bool

    public init(
        id: String, kind: String, isUpdate: Bool = false, timeNs: Int64, lastSeenNs: Int64? = nil,
        sourceAddress: String? = nil, sourceInterface: String? = nil, remote: String? = nil,
        quarantined: Bool = false, blocked: [String] = [], detectionLatencyMs: Double? = nil, responseLatencyMs: Double? = nil,
        killedAtExec: Bool? = nil, podName: String? = nil, binary: String? = nil, technique: String? = nil, relayKilled: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.isUpdate = isUpdate
        self.timeNs = timeNs
        self.lastSeenNs = lastSeenNs ?? timeNs
        self.sourceAddress = sourceAddress
        self.sourceInterface = sourceInterface
        self.remote = remote
        self.quarantined = quarantined
        self.blocked = blocked
        self.detectionLatencyMs = detectionLatencyMs
        self.responseLatencyMs = responseLatencyMs
        self.killedAtExec = killedAtExec
        self.podName = podName
        self.binary = binary
        self.technique = technique
        self.relayKilled = relayKilled
    }

    /// nil for a line that is not an alert (no id, kind or time).
    public init?(json: [String: Any]) {
        guard let id = json["id"] as? String, let kind = json["kind"] as? String,
            let time = Delivery.integer(json["time_ns"])
        else { return nil }
        let source = json["source"] as? [String: Any]
        let actions = json["actions"] as? [[String: Any]] ?? []
        let evidence = json["evidence"] as? [String: Any]
        self.init(
            id: id, kind: kind, isUpdate: json["is_update"] as? Bool == true, timeNs: time,
            lastSeenNs: Delivery.integer(json["last_seen_ns"]),
            sourceAddress: source?["address"] as? String, sourceInterface: source?["interface"] as? String,
            remote: evidence?["remote"] as? String,
            quarantined: actions.contains { $0["type"] as? String == "quarantine" },
            blocked: actions.filter { $0["type"] as? String == "block" }.compactMap { $0["remote"] as? String },
            detectionLatencyMs: json["detection_latency_ms"] as? Double, responseLatencyMs: json["response_latency_ms"] as? Double,
            killedAtExec: actions.first { $0["type"] as? String == "kill" }.map { $0["at_exec"] as? Bool == true },
            podName: source?["pod_name"] as? String,
            binary: evidence?["binary"] as? String ?? (source?["process"] as? [String: Any])?["binary"] as? String,
            technique: evidence?["technique"] as? String, relayKilled: evidence?["relay_killed"] as? Bool == true)
    }

    /// When the newest occurrence this line reports was decided: a fresh
    /// alert's own time; for an update, its newest repeat's.
    public var occurrenceNs: Int64 { isUpdate ? lastSeenNs : timeNs }

    /// Whether the line asked for a response (an update does when what its alert
    /// requested was released meanwhile: it is re-applied and written at once).
    public var enforced: Bool { quarantined || !blocked.isEmpty }
}
