import Foundation
import PodwallKernel
import Synchronization

/// A lab of "pods" for the demo, the tests and the benchmarks: a node
/// network namespace holding a bridge and the pods' host-side veths (the
/// agent runs there, as on a Kubernetes node), and one namespace per pod.
/// Everything is named with a per-run prefix so parallel runs never clash,
/// and `teardown()` removes it all; labs of dead processes are removed at
/// the next start.
public final class Lab: Sendable {
    public struct Pod: Sendable {
        public let name: String
        public let namespace: String
        /// The host-side veth, in the node namespace.
        public let hostInterface: String
        public let ipv4: String
        public let ipv6: String
    }

    public static let namePrefix = "pwlab-"
    /// RFC 2544 benchmarking range and a ULA prefix: only ever inside the lab.
    public static let ipv4Subnet = "198.18.0"
    public static let ipv6Subnet = "fd00:198:18::"

    public let id: String
    public let nodeNamespace: String
    public let pinRoot: String
    public var pods: [Pod] { state.withLock { $0.pods } }
    /// The lab's own cgroup (the pods' cgroup root for the socket hooks).
    public let cgroupPath: String?
    private let state = Mutex(State())

    private struct State {
        var pods: [Pod] = []
        /// Background processes `teardown()` stops.
        var processes: [Process] = []
    }

    private static let counter = Atomic<Int>(0)

    public init(pods count: Int) throws {
        Self.removeStaleLabs()
        let sequence = Self.counter.add(1, ordering: .relaxed).newValue
        let id = "\(Self.namePrefix)\(getpid())-\(sequence)"
        self.id = id
        nodeNamespace = id + "-node"
        pinRoot = "/sys/fs/bpf/\(id)"
        cgroupPath = CgroupHooks.cgroup2Mount().map { "\($0)/\(id)" }
        do {
            if let cgroupPath { try Shell.run(["mkdir", "-p", cgroupPath]) }
            try Shell.run(["ip", "netns", "add", nodeNamespace])
            try inNode(["ip", "link", "set", "lo", "up"])
            try inNode(["ip", "link", "add", "br0", "type", "bridge"])
            try inNode(["ip", "link", "set", "br0", "up"])
            // The node routes, as on a Kubernetes node: the bridge is the pods' gateway.
            try inNode(["ip", "addr", "add", "\(Self.ipv4Subnet).1/24", "dev", "br0"])
            try inNode(["ip", "-6", "addr", "add", "\(Self.ipv6Subnet)1/64", "dev", "br0", "nodad"])
            try inNode(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
            try inNode(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])
            for _ in 0..<count { try addPod() }
        } catch {
            teardown()
            throw error
        }
    }

    deinit {
        teardown()
    }

    /// Adds a pod: a namespace and a veth pair whose host side joins the bridge.
    @discardableResult
    public func addPod() throws -> Pod {
        let index = state.withLock { $0.pods.count } + 1
        let pod = Pod(
            name: "pod\(index)", namespace: "\(id)-pod\(index)", hostInterface: "veth-pod\(index)",
            ipv4: "\(Self.ipv4Subnet).\(10 + index)", ipv6: "\(Self.ipv6Subnet)\(10 + index)")
        try Shell.run(["ip", "netns", "add", pod.namespace])
        state.withLock { $0.pods.append(pod) }
        try inNode(["ip", "link", "add", pod.hostInterface, "type", "veth", "peer", "name", "eth0", "netns", pod.namespace])
        try inNode(["ip", "link", "set", pod.hostInterface, "master", "br0", "up"])
        try inPod(pod, ["ip", "link", "set", "lo", "up"])
        try inPod(pod, ["ip", "addr", "add", "\(pod.ipv4)/24", "dev", "eth0"])
        try inPod(pod, ["ip", "-6", "addr", "add", "\(pod.ipv6)/64", "dev", "eth0", "nodad"])
        try inPod(pod, ["ip", "link", "set", "eth0", "up"])
        try inPod(pod, ["ip", "route", "add", "default", "via", "\(Self.ipv4Subnet).1"])
        return pod
    }

    /// The "internet": a namespace behind the node's uplink, outside the
    /// cluster's CIDR (RFC 2544 198.19.0.0/24, still only inside the lab).
    public static let internetAddress = "198.19.0.2"
    /// A second "internet" host in the same namespace.
    public static let internetAddress2 = "198.19.0.3"
    public var internetNamespace: String { id + "-internet" }

    public func addInternet() throws {
        try Shell.run(["ip", "netns", "add", internetNamespace])
        try inNode(["ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "eth0", "netns", internetNamespace])
        try inNode(["ip", "addr", "add", "198.19.0.1/24", "dev", "uplink0"])
        try inNode(["ip", "link", "set", "uplink0", "up"])
        let internet = ["ip", "netns", "exec", internetNamespace]
        try Shell.run(internet + ["ip", "link", "set", "lo", "up"])
        try Shell.run(internet + ["ip", "addr", "add", "\(Self.internetAddress)/24", "dev", "eth0"])
        try Shell.run(internet + ["ip", "addr", "add", "\(Self.internetAddress2)/24", "dev", "eth0"])
        try Shell.run(internet + ["ip", "link", "set", "eth0", "up"])
        try Shell.run(internet + ["ip", "route", "add", "default", "via", "198.19.0.1"])
    }

    /// A directory for the lab's own files (the evaluation's captures),
    /// removed with the lab, also the lab of a crashed run.
    public var temporaryDirectory: String { Self.temporaryDirectory(labID: id) }

    static func temporaryDirectory(labID: String) -> String { "/tmp/\(labID)" }

    /// Creates `temporaryDirectory` (root only) and returns it.
    @discardableResult
    public func makeTemporaryDirectory() throws -> String {
        try FileManager.default.createDirectory(
            atPath: temporaryDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        return temporaryDirectory
    }

    @discardableResult
    public func inNode(_ command: [String], check: Bool = true) throws -> Shell.Result {
        try Shell.run(["ip", "netns", "exec", nodeNamespace] + command, check: check)
    }

    @discardableResult
    public func inPod(_ pod: Pod, _ command: [String], input: String? = nil, check: Bool = true) throws -> Shell.Result {
        try Shell.run(["ip", "netns", "exec", pod.namespace] + command, input: input, check: check)
    }

    /// Runs a command in the node's network namespace only (nsenter keeps
    /// the mount namespace, so bpffs and cgroupfs stay visible, unlike
    /// `ip netns exec`, which remounts /sys).
    public func nodeCommand(_ command: [String]) -> [String] {
        ["nsenter", "--net=/run/netns/\(nodeNamespace)", "--"] + command
    }

    /// Starts a background process that `teardown()` stops.
    @discardableResult
    public func spawn(_ command: [String], logFile: String? = nil) throws -> Process {
        let process = try Shell.spawn(command, logFile: logFile)
        state.withLock { $0.processes.append(process) }
        return process
    }

    /// Runs a command in a pod's network namespace and in the lab's cgroup,
    /// where podwall's connect()/sendmsg() hooks apply.
    @discardableResult
    public func inPodCgroup(_ pod: Pod, _ command: [String], check: Bool = true) throws -> Shell.Result {
        guard let cgroupPath else {
            throw Shell.Failure(command: command, result: .init(status: 1, output: "", error: "no cgroup v2 mount"))
        }
        // Into the namespace first, then the cgroup: a pod's process that
        // joins a namespace is a breakout attempt (podwall kills it). nsenter,
        // unlike `ip netns exec`, does not remount /sys, so cgroupfs stays.
        return try Shell.run(
            [
                "nsenter", "--net=/run/netns/\(pod.namespace)", "--",
                "sh", "-c", "echo $$ > \(cgroupPath)/cgroup.procs && exec \"$@\"", "sh"
            ] + command, check: check)
    }

    /// Starts a background process in any namespace of the lab.
    @discardableResult
    public func spawn(inNamespace namespace: String, _ command: [String], logFile: String? = nil) throws -> Process {
        try spawn(["ip", "netns", "exec", namespace] + command, logFile: logFile)
    }

    @discardableResult
    public func spawnInPod(_ pod: Pod, _ command: [String], logFile: String? = nil) throws -> Process {
        try spawn(inNamespace: pod.namespace, command, logFile: logFile)
    }

    /// Stops processes, deletes the namespaces (their veths go with them) and
    /// the lab's pins. Safe to call more than once.
    public func teardown() {
        let running = state.withLock {
            let list = $0.processes; $0.processes = []; return list
        }
        for process in running where process.isRunning {
            process.terminate()
        }
        // Poll rather than waitUntilExit(), which can spin forever in
        // Foundation when the child was started from another thread.
        Self.waitForExit(running, seconds: 3)
        for process in running where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        Self.waitForExit(running, seconds: 1)
        Self.remove(labID: id)
    }

    private static func waitForExit(_ processes: [Process], seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while processes.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
    }

    static func remove(labID: String) {
        removeContainers(labID: labID)
        let namespaces =
            (try? Shell.run(["ip", "netns", "list"]))?.output
            .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) } ?? []
        for namespace in namespaces where namespace.hasPrefix(labID + "-") {
            // Processes still inside would keep the namespace alive.
            _ = try? Shell.run(["ip", "netns", "pids", namespace], check: false).output
                .split(separator: "\n").compactMap { Int32($0) }.map { kill($0, SIGKILL) }
            _ = try? Shell.run(["ip", "netns", "delete", namespace], check: false)
        }
        _ = try? Shell.run(["rm", "-rf", "/sys/fs/bpf/\(labID)"], check: false)
        try? FileManager.default.removeItem(atPath: temporaryDirectory(labID: labID))
        if let mount = CgroupHooks.cgroup2Mount() {
            removeCgroupTree("\(mount)/\(labID)")
        }
        // runc also makes a container's cgroup in each v1 hierarchy of a hybrid node.
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let tree = "/sys/fs/cgroup/\(hierarchy)/\(labID)"
            if FileManager.default.fileExists(atPath: tree) { removeCgroupTree(tree) }
        }
    }

    /// Children first (a test may nest cgroups, as the kubelet does); a
    /// cgroup whose last process is still exiting refuses rmdir for a moment.
    static func removeCgroupTree(_ cgroup: String) {
        let children = (try? FileManager.default.contentsOfDirectory(atPath: cgroup)) ?? []
        for child in children where (try? FileManager.default.destinationOfSymbolicLink(atPath: cgroup + "/" + child)) == nil {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: cgroup + "/" + child, isDirectory: &isDirectory), isDirectory.boolValue {
                removeCgroupTree(cgroup + "/" + child)
            }
        }
        if let procs = try? String(contentsOfFile: cgroup + "/cgroup.procs", encoding: .utf8) {
            procs.split(separator: "\n").compactMap { Int32($0) }.forEach { kill($0, SIGKILL) }
        }
        _ = Lab.waitForEmpty(cgroup)
        for _ in 0..<100 where rmdir(cgroup) != 0 && errno == EBUSY {
            usleep(10_000)
        }
    }

    private static func waitForEmpty(_ cgroup: String) -> Bool {
        for _ in 0..<100 {
            let procs = (try? String(contentsOfFile: cgroup + "/cgroup.procs", encoding: .utf8)) ?? ""
            if procs.isEmpty { return true }
            usleep(10_000)
        }
        return false
    }

    /// Removes labs whose creating process is gone (a crashed test run).
    static func removeStaleLabs() {
        let namespaces = (try? Shell.run(["ip", "netns", "list"], check: false))?.output ?? ""
        var stale = Set<String>()
        for line in namespaces.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(namePrefix) else { continue }
            let parts = name.dropFirst(namePrefix.count).split(separator: "-")
            guard parts.count >= 2, let pid = Int32(parts[0]), kill(pid, 0) != 0 else { continue }
            stale.insert("\(namePrefix)\(parts[0])-\(parts[1])")
        }
        stale.forEach(remove(labID:))
    }
}
