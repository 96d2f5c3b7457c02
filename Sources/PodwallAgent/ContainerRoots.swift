import Foundation
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
        if let root = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(procRoot)/\(process.pid)/root") {
            known.withLock { known in
                if known.count >= Self.maxContainers { known.removeAll(keepingCapacity: true) }
                known[process.cgroupID] = root
            }
            return root
        }
        return known.withLock { $0[process.cgroupID] }
    }
}
