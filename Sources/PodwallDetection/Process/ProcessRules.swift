import PodwallCore

/// Which program names the process detectors (and the kernel's exec policy)
/// treat as what. Names are comms: a binary's basename, at most 15 bytes.
public struct ProcessRules: Sendable, Equatable {
    /// Shells and interpreters that run commands they read.
    public var shells: Set<String> = [
        "sh", "bash", "dash", "ash", "busybox", "zsh", "ksh", "mksh", "fish", "csh", "tcsh",
        "python", "python2", "python3", "python3.11", "python3.12", "python3.13", "perl", "php", "ruby", "node", "lua", "tclsh"
    ]
    /// Network tools an attacker brings or uses; curl and wget fetch the next stage.
    public var networkTools: Set<String> = [
        "nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "telnet", "nmap", "masscan", "curl", "wget",
        "tcpdump", "tshark"
    ]
    /// Never allowed in a pod; killed at exec when the kill switch is on.
    public var denied: Set<String> = []
    /// Container runtimes' init processes, as they name themselves while
    /// they set a container up (in its cgroup, before its first exec): their
    /// mounts and namespace calls are no breakout.
    public static let runtimeInits: Set<String> = ["runc:[0:PARENT]", "runc:[1:CHILD]", "runc:[2:INIT]", "crun"]

    public init() {}

    /// The names the kernel's exec policy gets, with their class.
    public var execClasses: [String: ExecClass] {
        var classes: [String: ExecClass] = [:]
        for name in shells { classes[name, default: []].insert(.shell) }
        for name in networkTools { classes[name, default: []].insert(.networkTool) }
        for name in denied { classes[name, default: []].insert(.denied) }
        for name in Self.runtimeInits { classes[name, default: []].insert(.runtime) }
        return classes
    }
}
