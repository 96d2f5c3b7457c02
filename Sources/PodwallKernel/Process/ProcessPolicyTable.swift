import Glibc
import PodwallABI
import PodwallCore

/// What the process programs watch and kill: the pods' cgroup, the kill
/// switches, and the program names the exec policy knows.
public struct ProcessPolicyTable: Sendable {
    /// Kill switches, applied in the kernel at exec.
    public struct Kills: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// A shell exec'd with an inet socket on fd 0, 1 or 2.
        public static let reverseShell = Kills(rawValue: UInt32(PW_POLICY_KILL_REVERSE_SHELL.rawValue))
        /// A program whose name is configured as denied.
        public static let denied = Kills(rawValue: UInt32(PW_POLICY_KILL_DENIED.rawValue))
        /// A breakout syscall, and a write to a breakout path.
        public static let breakout = Kills(rawValue: UInt32(PW_POLICY_KILL_BREAKOUT.rawValue))
        /// A fileless program, or one a pod wrote in a no-exec directory, at exec.
        public static let droppedExec = Kills(rawValue: UInt32(PW_POLICY_KILL_DROPPED_EXEC.rawValue))
    }

    let config: BPFMap<UInt32, pw_process_config>
    let names: BPFMap<pw_exec_name_key, UInt32>

    /// Watches the processes whose cgroup descends from `cgroupPath` (a
    /// directory of the cgroup v2 hierarchy mounted at `mount`).
    /// `procRoot`: where the node's /proc is (its pid 1's mount namespace is
    /// the node's; the agent's own counts too).
    public func watch(podsCgroup cgroupPath: String, mount: String, kills: Kills, files: Bool = false, procRoot: String = "/proc") throws {
        var status = stat()
        guard stat(cgroupPath, &status) == 0 else { throw KernelError("reading cgroup", cgroupPath, errno: errno) }
        let relative = cgroupPath.dropFirst(mount.count).split(separator: "/")
        guard cgroupPath.hasPrefix(mount) else {
            throw KernelError("watching processes of", "\(cgroupPath) (not under the cgroup v2 mount \(mount))", errno: EINVAL)
        }
        // A cgroup v2 directory's inode number is its cgroup id.
        let value = pw_process_config(
            pods_cgroup_id: UInt64(status.st_ino), pods_cgroup_level: UInt32(relative.count),
            policy: kills.rawValue | (files ? UInt32(PW_POLICY_WATCH_FILES.rawValue) : 0),
            host_mnt_ns: Self.namespaceInode(procRoot + "/1/ns/mnt"), agent_mnt_ns: Self.namespaceInode("/proc/self/ns/mnt"))
        try config.update(0, value)
    }

    /// A namespace's inode number (0: unknown).
    static func namespaceInode(_ path: String) -> UInt32 {
        var status = stat()
        return stat(path, &status) == 0 ? UInt32(truncatingIfNeeded: status.st_ino) : 0
    }

    /// Watches nothing (the programs stay attached and cost one lookup).
    public func stopWatching() throws {
        try config.update(0, pw_process_config())
    }

    /// Replaces the names the exec policy knows. A name is a program's
    /// comm: its basename, cut by the kernel at 15 bytes, so a longer name is
    /// refused (configuration checks it first).
    public func setNames(_ classes: [String: ExecClass]) throws {
        var wanted: [[UInt8]: (key: pw_exec_name_key, value: UInt32)] = [:]
        for (name, execClass) in classes {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 15 else {
                throw KernelError("setting exec name", "\(name) (a program name is 1 to 15 bytes)", errno: EINVAL)
            }
            var key = pw_exec_name_key()
            withUnsafeMutableBytes(of: &key.comm) { $0.copyBytes(from: bytes) }
            wanted[bytes] = (key, execClass.rawValue)
        }
        for key in names.keys() where wanted[Self.bytes(of: key)] == nil {
            _ = try names.delete(key)
        }
        for entry in wanted.values {
            try names.update(entry.key, entry.value)
        }
    }

    static func bytes(of key: pw_exec_name_key) -> [UInt8] {
        withUnsafeBytes(of: key.comm) { Array($0.prefix { $0 != 0 }) }
    }
}
