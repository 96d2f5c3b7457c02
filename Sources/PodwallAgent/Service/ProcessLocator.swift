import Foundation
import PodwallCore
import PodwallKernel
import Synchronization

/// Where a process refused by a cgroup hook sits, so that its alert names the
/// pod as TC alerts do: the hooks see the process (tgid, cgroup id), not the
/// packet (no interface, no source address). The process's network namespace
/// is the peer of one pod interface and holds the pod's address; its cgroup
/// names the source when no pod interface has that namespace.
final class ProcessLocator: Sendable {
    struct Location: Sendable, Equatable {
        var ifindex: UInt32?
        var address: IPAddress?
        /// Under the cgroup v2 mount ("/kubepods.slice/…").
        var cgroupPath: String?
    }

    /// At most this many of a cgroup's processes are asked for their namespace.
    static let maxProcesses = 16

    private let procRoot: String
    private let cgroupMount: String
    /// The hooks' cgroup (absolute): every process they see is under it.
    private let hookCgroup: String
    private let interface: @Sendable (Int32) -> UInt32?
    /// Cgroup paths by id; nil: no longer there (ids are never reused while the node runs).
    private let paths = Mutex<[UInt64: String?]>([:])

    /// `interface`: the pod interface whose peer namespace has this nsid.
    init(procRoot: String, cgroupMount: String, hookCgroup: String, interface: @escaping @Sendable (Int32) -> UInt32?) {
        self.procRoot = procRoot
        self.cgroupMount = cgroupMount
        self.hookCgroup = hookCgroup
        self.interface = interface
    }

    /// Pods found before. A namespace stays in its pod, so a process of a
    /// known one costs one stat instead of a walk of /proc (execs and
    /// connects of pods come often); a process already gone (a short-lived
    /// exec often is, by the time its event is read) is taken to be in the
    /// pod its cgroup was last found in: walking its cgroup's processes'
    /// namespaces cost the agent ~300 µs per exec. A source found in no pod
    /// (a hostNetwork pod, a cgroup with no pod interface) is looked for
    /// again after `retryNs`: its interface may come later.
    private let found = Mutex<[FoundKey: (location: Location, untilNs: UInt64?)]>([:])
    static let retryNs: UInt64 = 5_000_000_000

    private struct FoundKey: Hashable {
        var cgroupID: UInt64
        /// nil: any namespace (the process is gone).
        var namespace: UInt64?
        var family: IPFamily
    }

    /// `locate`, remembered per cgroup and network namespace.
    func locateRemembering(tgid: UInt32, cgroupID: UInt64, family: IPFamily) -> Location {
        let namespace = Self.inode("\(procRoot)/\(tgid)/ns/net")
        let key = FoundKey(cgroupID: cgroupID, namespace: namespace, family: family)
        let nowNs = MonotonicClock.now()
        if let known = found.withLock({ $0[key] }), known.untilNs.map({ nowNs < $0 }) ?? true { return known.location }
        let location = locate(tgid: tgid, cgroupID: cgroupID, family: family)
        let entry = (location, location.ifindex == nil ? nowNs + Self.retryNs : nil)
        found.withLock {
            if $0.count >= 10_000 { $0.removeAll() }
            $0[key] = entry
            if namespace != nil, location.ifindex != nil { $0[FoundKey(cgroupID: cgroupID, namespace: nil, family: family)] = entry }
        }
        return location
    }

    func locate(tgid: UInt32, cgroupID: UInt64, family: IPFamily) -> Location {
        var location = Location()
        let own = cgroupPath(ofProcess: Int32(tgid)).flatMap { Self.inode(cgroupMount + $0) == cgroupID ? $0 : nil }
        location.cgroupPath = own ?? cgroupPath(ofID: cgroupID)
        // The process's own namespace while it lives (a refused client often
        // exits at once), else the one namespace of its cgroup's processes:
        // processes of two namespaces in one cgroup (not a pod's) name none.
        var found = own == nil ? nil : namespace(of: Int32(tgid), family: family)
        if found == nil, let path = location.cgroupPath {
            let procs = (try? String(contentsOfFile: cgroupMount + path + "/cgroup.procs", encoding: .utf8)) ?? ""
            let seen = procs.split(separator: "\n").prefix(Self.maxProcesses).compactMap {
                Int32($0).flatMap { namespace(of: $0, family: family) }
            }
            if Set(seen.map(\.nsid)).count == 1 { found = seen.first }
        }
        guard let found else { return location }
        location.ifindex = interface(found.nsid)
        location.address = found.address
        return location
    }

    /// A process's namespace (its nsid here) and its address of `family`;
    /// nil once the process is gone.
    private func namespace(of pid: Int32, family: IPFamily) -> (nsid: Int32, address: IPAddress?)? {
        let net = "\(procRoot)/\(pid)/net/"
        guard let nsid = NetworkNamespaces.id(of: "\(procRoot)/\(pid)/ns/net"),
            let table = try? String(contentsOfFile: net + (family == .v4 ? "fib_trie" : "if_inet6"), encoding: .utf8)
        else { return nil }
        let addresses = family == .v4 ? NamespaceAddresses.ipv4(fibTrie: table) : NamespaceAddresses.ipv6(ifInet6: table)
        return (nsid, addresses.first)
    }

    /// The name of a source known only by its cgroup: the pod's UID when the
    /// path is a kubelet's (`pod-<UID>`, as pod interfaces are named without a
    /// kubelet), else the path itself.
    static func name(ofCgroup path: String) -> String {
        PodCgroup.podUID(cgroupFile: "0::" + path).map { "pod-\($0)" } ?? path
    }

    /// The cgroup v2 path in /proc/PID/cgroup (its `0::` line).
    private func cgroupPath(ofProcess pid: Int32) -> String? {
        ProcStatus.cgroupV2Path((try? String(contentsOfFile: "\(procRoot)/\(pid)/cgroup", encoding: .utf8)) ?? "")
    }

    /// The cgroup with this id (its directory's inode) under the hooks'
    /// cgroup. Remembered, found or not, so that a flood of refused
    /// short-lived processes walks the tree once per cgroup (bounded: the
    /// memory is dropped past 10,000 cgroups).
    func cgroupPath(ofID id: UInt64) -> String? {
        if let known = paths.withLock({ $0[id] }) { return known }
        let path = Self.directory(withInode: id, under: hookCgroup).map { String($0.dropFirst(cgroupMount.count)) }
        paths.withLock { paths in
            if paths.count >= 10_000 { paths.removeAll() }
            paths[id] = .some(path)
        }
        return path
    }

    private static func directory(withInode inode: UInt64, under root: String) -> String? {
        if Self.inode(root) == inode { return root }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            let path = root + "/" + entry
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
            if let found = directory(withInode: inode, under: path) { return found }
        }
        return nil
    }

    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }
}
