import PodwallCore

/// What to do for one alert kind. Parts combine, e.g. block the destination and capture.
public struct ResponseRule: Sendable, Equatable {
    /// Block the alert's remote side for this long.
    public var blockTTLSeconds: UInt32?
    /// Quarantine the source pod for this long.
    public var quarantineTTLSeconds: UInt32?
    public var capture: Bool
    /// Kill the program in the kernel at its exec (kinds judged at exec).
    public var kill: Bool

    public init(blockTTLSeconds: UInt32? = nil, quarantineTTLSeconds: UInt32? = nil, capture: Bool = false, kill: Bool = false) {
        self.blockTTLSeconds = blockTTLSeconds
        self.quarantineTTLSeconds = quarantineTTLSeconds
        self.capture = capture
        self.kill = kill
    }

    /// Report only.
    public static let alertOnly = ResponseRule()
}

/// Maps alerts to response actions. Pure: the caller performs (and may veto) them.
public struct ResponsePolicy: Sendable, Equatable {
    /// A scanning pod is likely compromised: cut it off for 10 minutes and
    /// record what it tries next.
    public var portScan = ResponseRule(quarantineTTLSeconds: 600, capture: true)
    /// Stop the bleeding to that destination for an hour and keep packets for forensics.
    public var exfiltration = ResponseRule(blockTTLSeconds: 3600, capture: true)
    public var protocolMismatch = ResponseRule(blockTTLSeconds: 3600, capture: true)
    /// The kernel already dropped the packet; just report it.
    public var blocklistHit = ResponseRule.alertOnly
    /// The pod is already quarantined: report what it still tries.
    public var quarantineDrop = ResponseRule.alertOnly
    /// The kernel kills the shell at exec (a switch of the process
    /// monitor); block the attacker's address for a day and record the
    /// connection.
    public var reverseShell = ResponseRule(blockTTLSeconds: 86_400, capture: true, kill: true)
    /// Curl in a pod is often legitimate (health checks): report only.
    public var networkTool = ResponseRule.alertOnly
    /// A new binary is often a new release: report only.
    public var unexpectedProcess = ResponseRule.alertOnly
    /// A flood is seen in numbers; quarantine is the operator's call.
    public var flood = ResponseRule.alertOnly
    /// Written files are often an install or a config change: report only
    /// (deny rules kill in the kernel whatever this says).
    public var sensitiveWrite = ResponseRule.alertOnly
    public var sensitiveRead = ResponseRule.alertOnly
    /// Killed at the syscall, and the pod cut off for an hour.
    public var breakout = ResponseRule(quarantineTTLSeconds: 3600, kill: true)
    /// Killed at exec (fileless, or written to /tmp or /dev/shm).
    public var dropExecute = ResponseRule(kill: true)

    public init() {}

    /// Every kind only alerts: for a first rollout, or an audit.
    public static var alertOnly: ResponsePolicy {
        var policy = ResponsePolicy()
        policy.portScan = .alertOnly
        policy.exfiltration = .alertOnly
        policy.protocolMismatch = .alertOnly
        policy.reverseShell = .alertOnly
        policy.breakout = .alertOnly
        policy.dropExecute = .alertOnly
        return policy
    }

    public subscript(kind: AlertKind) -> ResponseRule {
        get {
            switch kind {
            case .portScan: portScan
            case .exfiltration: exfiltration
            case .protocolMismatch: protocolMismatch
            case .blocklistHit: blocklistHit
            case .quarantineDrop: quarantineDrop
            case .reverseShell: reverseShell
            case .networkTool: networkTool
            case .unexpectedProcess: unexpectedProcess
            case .flood: flood
            case .sensitiveWrite: sensitiveWrite
            case .sensitiveRead: sensitiveRead
            case .breakout: breakout
            case .dropExecute: dropExecute
            }
        }
        set {
            switch kind {
            case .portScan: portScan = newValue
            case .exfiltration: exfiltration = newValue
            case .protocolMismatch: protocolMismatch = newValue
            case .blocklistHit: blocklistHit = newValue
            case .quarantineDrop: quarantineDrop = newValue
            case .reverseShell: reverseShell = newValue
            case .networkTool: networkTool = newValue
            case .unexpectedProcess: unexpectedProcess = newValue
            case .flood: flood = newValue
            case .sensitiveWrite: sensitiveWrite = newValue
            case .sensitiveRead: sensitiveRead = newValue
            case .breakout: breakout = newValue
            case .dropExecute: dropExecute = newValue
            }
        }
    }

    /// The actions for `alert`; `[.none]` when the rule only reports. A block needs a single
    /// remote to aim at, so it is skipped for alerts without one (a scan has many targets).
    public func actions(for alert: Alert) -> [ResponseAction] {
        let rule = self[alert.kind]
        var actions: [ResponseAction] = []
        if let ttl = rule.blockTTLSeconds, let remote = Self.remote(of: alert) {
            actions.append(.block(remote: remote, ttlSeconds: ttl))
        }
        // Aimed at the pod's interface: a pod known by its cgroup only (a hostNetwork pod, or
        // one not found) has none.
        if let ttl = rule.quarantineTTLSeconds, alert.source.ifindex != 0 {
            actions.append(.quarantine(pod: alert.source.address, ifindex: alert.source.ifindex, ttlSeconds: ttl))
        }
        if rule.kill, let pid = alert.source.process?.tgid, let killed = Self.killedInKernel(alert) {
            actions.insert(.kill(pid: pid, atExec: killed), at: 0)
        }
        if rule.capture {
            actions.append(.capture(id: alert.id))
        }
        return actions.isEmpty ? [.none] : actions
    }

    /// The one remote an alert points at, if any.
    static func remote(of alert: Alert) -> IPAddress? {
        switch alert.evidence {
        case .portScan, .flood: nil
        case .exfiltration(let evidence): evidence.destination
        case .protocolMismatch: alert.flows.first?.remote
        case .blocklistHit(let evidence), .quarantineDrop(let evidence): evidence.remote
        case .process(let evidence): evidence.remote
        case .file: nil
        }
    }

    /// Whether the kernel already killed the alert's process; nil for
    /// alerts not about one process.
    static func killedInKernel(_ alert: Alert) -> Bool? {
        switch alert.evidence {
        case .process(let evidence): evidence.killedAtExec
        case .file(let evidence): evidence.killed
        default: nil
        }
    }
}
