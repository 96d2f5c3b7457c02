/// What /proc/<pid>/{stat,cmdline,cgroup} say of a process, parsed from
/// text and bytes the agent read: no file access here.
public struct ProcStatus: Hashable, Sendable {
    public var pid: UInt32
    public var parentPid: UInt32
    public var comm: String
    /// starttime converted from clock ticks since boot.
    public var startNs: UInt64
    /// Empty for kernel threads (their cmdline is empty).
    public var arguments: [String]
    /// The cgroup v2 path (the `0::` line); nil on a v1-only host.
    public var cgroupPath: String?

    /// nil when `stat` is not a stat line. `ticksPerSecond`: sysconf(_SC_CLK_TCK), 100 on Linux.
    public static func parse(stat: String, cmdline: [UInt8], cgroup: String, ticksPerSecond: UInt64) -> ProcStatus? {
        guard ticksPerSecond > 0, let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"), open < close,
            case let head = stat[..<open].split(separator: " "), head.count == 1, let pid = UInt32(head[0])
        else { return nil }
        // comm may hold spaces and ')' itself: the fields resume after the LAST ')'.
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        guard fields.count > 19, let parentPid = UInt32(fields[1]), let ticks = UInt64(fields[19]) else { return nil }
        return ProcStatus(
            pid: pid, parentPid: parentPid, comm: String(stat[stat.index(after: open)..<close]),
            startNs: nanoseconds(ticks: ticks, perSecond: ticksPerSecond), arguments: arguments(cmdline: cmdline),
            cgroupPath: cgroupV2Path(cgroup))
    }

    /// NUL-separated arguments; a trailing NUL ends the last one rather than starting an empty one.
    public static func arguments(cmdline: [UInt8]) -> [String] {
        guard !cmdline.isEmpty else { return [] }
        var pieces = cmdline.split(separator: 0, omittingEmptySubsequences: false)
        if cmdline.last == 0 { pieces.removeLast() }
        return pieces.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The path of the `0::` line; v1 hierarchies (`n:controllers:path`) are skipped.
    public static func cgroupV2Path(_ cgroup: String) -> String? {
        for line in cgroup.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// NSpid's last value in /proc/<pid>/status: the pid inside the process's own namespace.
    public static func namespacePid(status: String) -> UInt32? {
        for line in status.split(separator: "\n") where line.hasPrefix("NSpid:") {
            return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap { UInt32($0) }
        }
        return nil
    }

    static func nanoseconds(ticks: UInt64, perSecond: UInt64) -> UInt64 {
        // Split so ticks * 1e9 cannot overflow.
        ticks / perSecond * 1_000_000_000 + ticks % perSecond * 1_000_000_000 / perSecond
    }
}
