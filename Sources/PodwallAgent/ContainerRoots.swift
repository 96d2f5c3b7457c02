import Glibc
import PodwallCore
import Synchronization

/// Where each container's root file system is on the host: the target of
/// /proc/PID/root, remembered by the container's cgroup, so a process the
/// kernel already killed is placed by its container's earlier ones.
final class ContainerRoots: Sendable {
    let procRoot: String
    private let known = Mutex([UInt64: String]())
    static let maxContainers = 4096

    init(procRoot: String) {
        self.procRoot = procRoot
    }

    func root(of process: ProcessIdentity) -> String? {
        if let root = Self.readLink("\(procRoot)/\(process.pid)/root") {
            known.withLock { known in
                if known.count >= Self.maxContainers { known.removeAll(keepingCapacity: true) }
                known[process.cgroupID] = root
            }
            return root
        }
        return known.withLock { $0[process.cgroupID] }
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
