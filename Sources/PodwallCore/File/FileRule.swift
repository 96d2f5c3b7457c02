/// What a path rule watches (the kernel's enum pw_file_rule_flag).
public struct FileAccess: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Writes, creations, deletions, renames, chmod and chown are reported.
    public static let write = FileAccess(rawValue: 1 << 0)
    /// Reads are reported (secrets, keys), judged against the workload's baseline.
    public static let read = FileAccess(rawValue: 1 << 1)
    /// A write is a breakout attempt (core_pattern, sysrq-trigger, release_agent).
    public static let breakout = FileAccess(rawValue: 1 << 2)
    /// A write is killed at the syscall (a deny rule).
    public static let kill = FileAccess(rawValue: 1 << 3)
    /// A program a pod wrote here is killed at exec (/tmp, /dev/shm).
    public static let noExec = FileAccess(rawValue: 1 << 4)
}

/// A watched path prefix ("/etc/shadow", "/root/.ssh/"): a path is judged
/// by the longest rule it starts with.
public struct FileRule: Hashable, Sendable {
    public var path: String
    public var access: FileAccess
    /// For read rules: the file names (last components) the kernel looks
    /// at on a read-only open; by default the rule's own last component.
    public var names: [String]

    public init(_ path: String, _ access: FileAccess, names: [String]? = nil) {
        self.path = path
        self.access = access
        self.names = names ?? (path.hasSuffix("/") ? [] : [String(path.split(separator: "/").last ?? "")])
    }
}
