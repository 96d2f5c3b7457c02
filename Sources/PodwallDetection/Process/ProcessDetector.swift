import PodwallCore

/// Judges each program a pod starts, at its exec: a reverse shell (a shell
/// whose stdio is a network connection, a network tool told to run a
/// program on its connection, or a shell whose stdio a connected process of
/// the pod relays) and a network tool. Pure: the caller names the pod and
/// process (`source`) and performs the responses.
public struct ProcessDetector: Sendable {
    public var rules: ProcessRules {
        // The kernel judges the tools its name table (these rules) calls tools.
        didSet { if relays.kernelJudgesPipes { relays.kernelJudgesTools = rules.networkTools } }
    }
    public private(set) var relays = ShellRelayDetector()
    public var baseline: ProcessBaseline

    public init(rules: ProcessRules = ProcessRules(), baseline: ProcessBaseline.Config = .init()) {
        self.rules = rules
        self.baseline = ProcessBaseline(config: baseline)
    }

    /// A program a pod started.
    public mutating func observe(_ exec: ExecRecord, source: AlertSource, now: UInt64) -> [Alert] {
        let isShell = rules.shells.contains(exec.comm) || exec.execClass.contains(.shell)
        let relayed = relays.observe(exec, isShell: isShell, source: source).map {
            Self.alert($0.0, severity: .critical, source: $0.1, flows: [], decidingNs: exec.timestampNs, now: now)
        }
        var alerts = relayed + (judge(exec, isShell: isShell, source: source, now: now).map { [$0] } ?? [])
        // Learned per workload: its pods by name, else its container's cgroup.
        if let workload = source.podName.map(WorkloadName.of(pod:)) ?? source.process?.cgroupPath,
            let evidence = baseline.observe(exec, workload: workload)
        {
            alerts.append(Self.alert(evidence, severity: .medium, source: source, flows: [], decidingNs: exec.timestampNs, now: now))
        }
        return alerts
    }

    /// A running shell redirected its stdio to a socket (the kernel reports
    /// only shells, from the names it was given).
    public func observe(_ redirect: StdioRedirect, source: AlertSource, now: UInt64) -> [Alert] {
        let socket = redirect.socket
        let flows =
            socket.isConnected
            ? [
                FlowKey(
                    ifindex: source.ifindex, proto: socket.proto, pod: socket.local, podPort: socket.localPort, remote: socket.remote,
                    remotePort: socket.remotePort)
            ]
            : []
        return [
            Self.alert(
                ProcessEvidence(redirect: redirect), severity: .critical, source: source, flows: flows, decidingNs: redirect.timestampNs,
                now: now)
        ]
    }

    /// A connect() of a pod's process: it may be the relay of a shell.
    public mutating func observe(_ connection: ProcessConnection, now: UInt64) -> [Alert] {
        relays.observe(connection).map {
            Self.alert($0.0, severity: .critical, source: $0.1, flows: [], decidingNs: connection.timestampNs, now: now)
        }
    }

    /// The kernel's connect program judges pipe relays (see `ShellRelayDetector.kernelJudgesPipes`).
    public mutating func awaitKernelRelayDecisions() {
        relays.kernelJudgesPipes = true
        relays.kernelJudgesTools = rules.networkTools
    }

    /// Relays the kernel left undecided, reported once their wait is over.
    public mutating func tick(now: UInt64) -> [Alert] {
        relays.tick(now: now).map { Self.alert($0.0, severity: .critical, source: $0.1, flows: [], decidingNs: now, now: now) }
    }

    /// The kernel took a process for a shell's relay at its connect.
    public mutating func observe(_ relay: RelayConnect, now: UInt64) -> [Alert] {
        relays.observe(relay).map {
            Self.alert($0.0, severity: .critical, source: $0.1, flows: [], decidingNs: relay.connection.timestampNs, now: now)
        }
    }

    static func alert(
        _ evidence: ProcessEvidence, severity: Severity, source: AlertSource, flows: [FlowKey], decidingNs: UInt64, now: UInt64
    )
        -> Alert
    {
        Alert(
            kind: evidence.kind, severity: severity, source: source, flows: flows, evidence: .process(evidence), decidingNs: decidingNs,
            now: now)
    }

    /// What the exec alone shows.
    func judge(_ exec: ExecRecord, isShell: Bool, source: AlertSource, now: UInt64) -> Alert? {
        let isTool = rules.networkTools.contains(exec.comm) || exec.execClass.contains(.networkTool)
        let evidence: ProcessEvidence
        let severity: Severity
        if isShell, let socket = exec.stdioSockets.first(where: \.isConnected) ?? exec.stdioSockets.first {
            evidence = ProcessEvidence(
                kind: .reverseShell, technique: .socketOnStdio, exec: exec,
                remote: socket.isConnected ? socket.remote : nil, remotePort: socket.isConnected ? socket.remotePort : nil)
            severity = .critical
        } else if isTool, let target = ToolArguments.executedProgramTarget(comm: exec.comm, arguments: exec.arguments) {
            evidence = ProcessEvidence(
                kind: .reverseShell, technique: .toolExecutesProgram, exec: exec, remote: target.address, remotePort: target.port)
            severity = .critical
        } else if isTool {
            let target = ToolArguments.target(arguments: exec.arguments)
            evidence = ProcessEvidence(
                kind: .networkTool, technique: .networkTool, exec: exec, remote: target?.address, remotePort: target?.port)
            severity = .medium
        } else {
            return nil
        }
        // The connection on its stdio is the flow the alert is about (and captures).
        let flows = exec.stdioSockets.filter(\.isConnected).prefix(1).map {
            FlowKey(
                ifindex: source.ifindex, proto: $0.proto, pod: $0.local, podPort: $0.localPort, remote: $0.remote, remotePort: $0.remotePort
            )
        }
        return Self.alert(evidence, severity: severity, source: source, flows: Array(flows), decidingNs: exec.timestampNs, now: now)
    }
}

/// What a network tool's command line says it will do.
enum ToolArguments {
    /// Options that make a tool run a program with its connection as stdio.
    static let executeOptions: Set<String> = ["-e", "-c", "--exec", "--sh-exec", "--lua-exec"]
    /// The tools those options mean that for (curl's -e is a referer).
    static let netcats: Set<String> = ["nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "busybox"]

    /// For `nc -e /bin/sh H P`, `ncat --sh-exec … H P` and `socat exec:… tcp:H:P`:
    /// the remote end when one is named (nil address: a listening bind shell).
    static func executedProgramTarget(comm: String, arguments: [String]) -> (address: IPAddress?, port: UInt16?)? {
        let options = arguments.dropFirst()
        if comm == "socat" {
            let lowered = options.map { $0.lowercased() }
            guard lowered.contains(where: { $0.hasPrefix("exec:") || $0.hasPrefix("system:") }) else { return nil }
            return socatTarget(options) ?? (nil, nil)
        }
        guard netcats.contains(comm),
            options.contains(where: { executeOptions.contains($0) || $0.hasPrefix("--sh-exec=") || $0.hasPrefix("-e/") })
        else { return nil }
        return target(arguments: arguments) ?? (nil, nil)
    }

    /// The last `host port` pair of the arguments, or socat's `tcp:host:port`.
    static func target(arguments: [String]) -> (address: IPAddress?, port: UInt16?)? {
        if let socat = socatTarget(arguments.dropFirst()) { return socat }
        guard arguments.count >= 3, let port = UInt16(arguments[arguments.count - 1]),
            let address = IPAddress(arguments[arguments.count - 2])
        else {
            // curl and wget name a URL: http://host[:port]/...
            return arguments.dropFirst().lazy.compactMap(urlTarget).first
        }
        return (address, port)
    }

    static func socatTarget(_ options: ArraySlice<String>) -> (address: IPAddress?, port: UInt16?)? {
        for option in options {
            let parts = option.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 3, ["tcp", "tcp4", "tcp6", "tcp-connect", "udp", "udp-connect"].contains(parts[0].lowercased())
            else { continue }
            let port = UInt16(parts[parts.count - 1].prefix { $0.isNumber })
            let host = parts[1..<(parts.count - 1)].joined(separator: ":")
            return (IPAddress(host.trimmingCharacters(in: "[]")), port)
        }
        return nil
    }

    static func urlTarget(_ text: String) -> (address: IPAddress?, port: UInt16?)? {
        guard let scheme = text.range(of: "://") else { return nil }
        let authority = text[scheme.upperBound...].prefix { $0 != "/" }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let port = authority[close...].dropFirst().hasPrefix(":") ? UInt16(authority[close...].dropFirst(2)) : nil
            return (IPAddress(String(authority[authority.index(after: authority.startIndex)..<close])), port)
        }
        let pieces = authority.split(separator: ":")
        guard let host = pieces.first, let address = IPAddress(String(host)) else { return nil }
        return (address, pieces.count > 1 ? UInt16(pieces[1]) : nil)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
