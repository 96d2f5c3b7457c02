import Foundation
import PodwallKernel

/// A lab pod's container, run by runc as the kubelet and containerd run
/// one: its own pid, mount, uts and ipc namespaces, the pod's network
/// namespace, a read-only root with the host's /usr bound read-only (or a
/// writable one with a node image's files: `ContainerRoot`), and a cgroup
/// laid out as the kubelet's systemd driver lays it out
/// (kubepods.slice/kubepods-besteffort.slice/…-pod<UID>.slice/cri-containerd-<id>.scope),
/// under the lab's own cgroup so that teardown removes it.
public struct Container: Sendable {
    public let id: String
    public let podUID: String
    /// The container's cgroup, relative to the cgroup v2 mount.
    public let cgroup: String
    public let bundle: String
    /// A host directory bound read-write at /shared in the container, for
    /// markers the test reads.
    public let sharedDirectory: String

    /// The cgroup that holds every pod of `lab` (what `kubepods.slice` is on a node).
    public static func podsCgroup(of lab: Lab) -> String { "/\(lab.id)/kubepods.slice" }
}

extension Lab {
    /// runc keeps the lab's container state apart from the host's.
    static func runcRoot(labID: String) -> String { "/run/\(labID)-runc" }

    func runc(_ arguments: [String]) -> [String] { Self.runc(labID: id, arguments) }

    static func runc(labID: String, _ arguments: [String]) -> [String] {
        ["runc", "--root", runcRoot(labID: labID)] + arguments
    }

    /// Starts a container in `pod` whose first process runs `command`
    /// (a long-lived one: `sleep`, a server), detached.
    public func runContainer(in pod: Pod, name: String, command: [String], root: ContainerRoot = .readOnly) throws -> Container {
        try runContainer(podName: pod.name, networkNamespace: pod.namespace, name: name, command: command, root: root)
    }

    /// Starts a container of a pod named `podName` (its UID follows from
    /// the name) in the network namespace `networkNamespace` (a name under
    /// /run/netns): a namespace no pod interface leads to gives a pod the
    /// agent knows only by its cgroup, as a hostNetwork pod is.
    public func runContainer(
        podName: String, networkNamespace: String, name: String, command: [String], root: ContainerRoot = .readOnly
    ) throws -> Container {
        let containerID = "\(id)-\(podName)-\(name)"
        let podUID = Self.podUID(lab: id, pod: podName)
        let slice = "kubepods-besteffort-pod" + podUID.replacingOccurrences(of: "-", with: "_") + ".slice"
        let cgroup = "\(Container.podsCgroup(of: self))/kubepods-besteffort.slice/\(slice)/cri-containerd-\(containerID).scope"
        let bundle = try makeTemporaryDirectory() + "/\(containerID)"
        let shared = bundle + "/shared"
        try Self.writeBundle(
            at: bundle, shared: shared, netns: "/run/netns/\(networkNamespace)", cgroup: cgroup, hostname: podName,
            command: command, root: root)
        // Detached: runc's own stdio would keep a pipe open for the container's life.
        let command =
            ["sh", "-c", "exec \"$@\" </dev/null >\(bundle)/runc.log 2>&1", "sh"] + runc(["run", "-d", "--bundle", bundle, containerID])
        let started = try Shell.run(command, check: false)
        guard started.succeeded else {
            let log = (try? String(contentsOfFile: bundle + "/runc.log", encoding: .utf8)) ?? ""
            throw Shell.Failure(command: command, result: .init(status: started.status, output: "", error: log))
        }
        return Container(id: containerID, podUID: podUID, cgroup: cgroup, bundle: bundle, sharedDirectory: shared)
    }

    /// The command line that runs `command` in the container.
    public func execCommand(in container: Container, _ command: [String]) -> [String] {
        runc(["exec", container.id] + command)
    }

    /// Runs a command in the container and waits for it.
    @discardableResult
    public func exec(in container: Container, _ command: [String], check: Bool = true) throws -> Shell.Result {
        try Shell.run(execCommand(in: container, command), check: check)
    }

    /// Starts a command in the container in the background (`teardown()` stops it).
    @discardableResult
    public func spawn(in container: Container, _ command: [String], logFile: String? = nil) throws -> Process {
        try spawn(execCommand(in: container, command), logFile: logFile)
    }

    /// Stops and deletes one container, its bundle and its pod's cgroup slice.
    public func removeContainer(_ container: Container) {
        _ = try? Shell.run(runc(["delete", "--force", container.id]), check: false)
        try? FileManager.default.removeItem(atPath: container.bundle)
        let slice = "/sys/fs/cgroup" + container.cgroup.split(separator: "/").dropLast().map { "/" + $0 }.joined()
        rmdir(slice)
    }

    /// Removes the lab's containers (runc kills their processes and removes
    /// their leaf cgroups; the lab removes the rest).
    static func removeContainers(labID: String) {
        let root = runcRoot(labID: labID)
        guard FileManager.default.fileExists(atPath: root) else { return }
        let ids = (try? Shell.run(runc(labID: labID, ["list", "-q"]), check: false))?.output.split(separator: "\n") ?? []
        for containerID in ids {
            _ = try? Shell.run(runc(labID: labID, ["delete", "--force", String(containerID)]), check: false)
        }
        // A `runc run` that failed half-way can leave its own binary bound
        // over a file of its state (runc's protection of its binary), which
        // keeps the state from being removed.
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 1, fields[1].hasPrefix(root + "/") { umount2(String(fields[1]), Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A stable, well-formed pod UID per lab and pod (8-4-4-4-12 hex).
    static func podUID(lab: String, pod: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (lab + "/" + pod).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16).leftPadded(to: 16) + String(hash &* 31, radix: 16).leftPadded(to: 16)
        let digits = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
    }

    static func writeBundle(
        at bundle: String, shared: String, netns: String, cgroup: String, hostname: String, command: [String], root: ContainerRoot
    ) throws {
        let rootfs = bundle + "/rootfs"
        for directory in ["usr", "proc", "dev", "sys", "tmp", "etc/alternatives", "shared"] {
            try FileManager.default.createDirectory(atPath: rootfs + "/" + directory, withIntermediateDirectories: true)
        }
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        // Debian's merged /usr: the top-level directories are links into it.
        for (link, target) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/" + link, withDestinationPath: target)
        }
        try root.populate(rootfs: rootfs, bundle: bundle)
        let spec = ContainerSpec(
            command: command, hostname: hostname, netns: netns, cgroup: cgroup, readOnlyRoot: root == .readOnly,
            binds: [("/usr", "/usr", true), ("/etc/alternatives", "/etc/alternatives", true), (shared, "/shared", false)]
                + root.binds(bundle: bundle))
        try spec.json.write(toFile: bundle + "/config.json", atomically: true, encoding: .utf8)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? String(suffix(width)) : String(repeating: "0", count: width - count) + self
    }
}
