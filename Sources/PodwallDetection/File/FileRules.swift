import PodwallCore

/// Which paths the file detectors (and the kernel's prefix table) watch, and
/// how. One rule per path; a path is judged by the longest rule it starts with.
public struct FileRules: Sendable, Equatable {
    public var rules: [FileRule]
    /// Files whose write is a breakout wherever they are: cgroup v1's
    /// `release_agent` runs as root on the host, wherever the pod mounted cgroupfs.
    public var breakoutNames: [String] = ["release_agent"]

    public init(_ rules: [FileRule] = FileRules.defaults) {
        self.rules = Self.merged(rules)
    }

    /// The breakout name that `path` ends with, if any.
    public func breakoutName(of path: String) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        return breakoutNames.contains(name) ? name : nil
    }

    /// Rules of the same path become one (their accesses and names joined).
    static func merged(_ rules: [FileRule]) -> [FileRule] {
        var byPath: [String: FileRule] = [:]
        var order: [String] = []
        for rule in rules {
            if var known = byPath[rule.path] {
                known.access.formUnion(rule.access)
                known.names += rule.names.filter { !known.names.contains($0) }
                byPath[rule.path] = known
            } else {
                byPath[rule.path] = rule
                order.append(rule.path)
            }
        }
        return order.map { byPath[$0]! }
    }

    /// The rule the kernel matched (by its index), or the longest rule `path` starts with.
    public func rule(id: UInt32?, path: String) -> FileRule? {
        if let id, Int(id) < rules.count { return rules[Int(id)] }
        return rules.filter { path.hasPrefix($0.path) }.max { $0.path.count < $1.path.count }
    }

    /// `path` with "." and ".." components and repeated slashes resolved
    /// lexically, as the kernel would walk it without symlinks.
    public static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        let joined = "/" + parts.joined(separator: "/")
        return path.hasSuffix("/") && joined != "/" ? joined + "/" : joined
    }

    /// Breakout paths: a write there reaches the host's kernel.
    static let breakoutPaths = [
        "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sysrq-trigger", "/proc/sys/fs/binfmt_misc/",
        "/sys/kernel/uevent_helper", "/proc/sys/kernel/hotplug"
    ]
    /// Container runtimes' sockets, when a pod has them mounted.
    static let runtimeSockets = [
        "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock",
        "/run/crio/crio.sock", "/var/run/crio/crio.sock", "/run/podman/podman.sock", "/var/run/cri-dockerd.sock"
    ]
    /// Accounts, privileges, the loader, scheduled jobs, logins, services and binaries.
    static let sensitiveWrites = [
        "/etc/passwd", "/etc/shadow", "/etc/gshadow", "/etc/group", "/etc/sudoers", "/etc/ld.so.preload", "/etc/ld.so.conf",
        "/etc/cron", "/var/spool/cron/", "/etc/ssh/", "/root/.ssh/", "/etc/pam.d/", "/etc/security/", "/etc/profile",
        "/etc/bash.bashrc", "/root/.bashrc", "/root/.profile", "/etc/init.d/", "/etc/systemd/", "/sys/fs/cgroup/",
        "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/lib/", "/usr/lib/"
    ]

    public static let defaults: [FileRule] =
        breakoutPaths.map { FileRule($0, [.write, .breakout]) } + runtimeSockets.map { FileRule($0, [.breakout]) }
        + sensitiveWrites.map { FileRule($0, .write) } + [
            FileRule("/etc/shadow", .read), FileRule("/etc/gshadow", .read),
            FileRule("/run/secrets/kubernetes.io/serviceaccount/", .read, names: ["token"]),
            FileRule("/var/run/secrets/kubernetes.io/serviceaccount/", .read, names: ["token"]),
            FileRule("/root/.ssh/", .read, names: ["id_rsa", "id_ecdsa", "id_ed25519", "id_dsa"]),
            FileRule("/etc/ssh/", .read, names: ["ssh_host_rsa_key", "ssh_host_ecdsa_key", "ssh_host_ed25519_key"]),
            FileRule("/tmp/", .noExec), FileRule("/dev/shm/", .noExec), FileRule("/var/tmp/", .noExec)
        ]
}
