/// The process an alert or a flow names: the one behind a cgroup-hook
/// decision, the program a process detector judged, or the one whose
/// connect() opened a flow (then with its exec id, binary, arguments and
/// ancestry when the process cache knows them).
public struct AlertProcess: Sendable, Hashable, Codable {
    public var pid: UInt32
    public var tgid: UInt32
    public var uid: UInt32
    public var comm: String
    public var cgroupId: UInt64
    /// Under the cgroup v2 mount, when the agent found it.
    public var cgroupPath: String?
    /// Unique across pid reuse and execs (see `ExecID`).
    public var execId: String?
    /// The pid as the container sees it.
    public var namespacePid: UInt32?
    public var binary: String?
    public var arguments: [String]?
    /// Parent first: "java", "sh", ...
    public var ancestors: [String]?

    public init(pid: UInt32, tgid: UInt32, uid: UInt32, comm: String, cgroupId: UInt64, cgroupPath: String? = nil) {
        self.pid = pid
        self.tgid = tgid
        self.uid = uid
        self.comm = comm
        self.cgroupId = cgroupId
        self.cgroupPath = cgroupPath
    }

    enum CodingKeys: String, CodingKey {
        case pid, tgid, uid, comm
        case cgroupId = "cgroup_id"
        case cgroupPath = "cgroup_path"
        case execId = "exec_id"
        case namespacePid = "namespace_pid"
        case binary, arguments, ancestors
    }
}

extension AlertProcess {
    /// Its Codable form (the same keys), for JSON lines.
    public var jsonObject: JSONLine {
        var object = JSONLine()
        object.field(CodingKeys.pid.rawValue, pid)
        object.field(CodingKeys.tgid.rawValue, tgid)
        object.field(CodingKeys.uid.rawValue, uid)
        object.field(CodingKeys.comm.rawValue, comm)
        object.field(CodingKeys.cgroupId.rawValue, cgroupId)
        if let cgroupPath { object.field(CodingKeys.cgroupPath.rawValue, cgroupPath) }
        if let execId { object.field(CodingKeys.execId.rawValue, execId) }
        if let namespacePid { object.field(CodingKeys.namespacePid.rawValue, namespacePid) }
        if let binary { object.field(CodingKeys.binary.rawValue, binary) }
        if let arguments { object.field(CodingKeys.arguments.rawValue, arguments) }
        if let ancestors { object.field(CodingKeys.ancestors.rawValue, ancestors) }
        return object
    }

    /// `comm[pid]`, then its parent's name when known: `nc[1234]<-sh`.
    public var label: String {
        "\(comm)[\(pid)]" + (ancestors?.first.map { "<-\($0)" } ?? "")
    }
}
