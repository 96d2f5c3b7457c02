import Foundation
import Glibc
import PodwallCore

/// The processes already running in the pods when the agent starts, read
/// from /proc, so the process cache knows their programs and parents (an
/// exec event names only what starts later).
enum RunningProcesses {
    /// Every process whose cgroup v2 path is under `podsCgroup` (relative to `mount`).
    static func read(procRoot: String, mount: String, podsCgroup: String) -> [RunningProcess] {
        let ticks = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        let relative = String(podsCgroup.dropFirst(mount.count))
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: procRoot)) ?? []).compactMap(UInt32.init)
        return pids.compactMap { pid -> RunningProcess? in
            let directory = "\(procRoot)/\(pid)"
            guard let cgroup = try? String(contentsOfFile: directory + "/cgroup", encoding: .utf8),
                let path = ProcStatus.cgroupV2Path(cgroup), path == relative || path.hasPrefix(relative + "/"),
                let statLine = try? String(contentsOfFile: directory + "/stat", encoding: .utf8),
                let cmdline = FileManager.default.contents(atPath: directory + "/cmdline"),
                let status = ProcStatus.parse(stat: statLine, cmdline: Array(cmdline), cgroup: cgroup, ticksPerSecond: ticks)
            else { return nil }
            let cgroupID = ProcessLocator.inode(mount + path) ?? 0
            let filename = (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/exe")) ?? status.comm
            let namespacePid =
                (try? String(contentsOfFile: directory + "/status", encoding: .utf8)).flatMap { ProcStatus.namespacePid(status: $0) } ?? 0
            return RunningProcess(status, filename: filename, cgroupID: cgroupID, namespacePid: namespacePid)
        }
    }
}
