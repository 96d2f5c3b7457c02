@testable import PodwallCore

/// Milliseconds to the events' nanoseconds.
func ms(_ milliseconds: UInt64) -> UInt64 { milliseconds * 1_000_000 }

/// A process in a recorded event stream: its fork, execs and exit, times in ms.
struct TestProcess {
    var pid: UInt32
    var parent: UInt32
    var startMs: UInt64
    var startNs: UInt64 { ms(startMs) }

    var identity: ProcessIdentity {
        ProcessIdentity(pid: pid, namespacePid: pid % 1000, parentPid: parent, cgroupID: 7, startNs: startNs)
    }

    var forked: ProcessEvent { .fork(identity, timestampNs: startNs, comm: "clone") }
    var forkID: ExecID { ExecID(pid: pid, execNs: startNs) }

    func exec(_ comm: String, atMs: UInt64, arguments: [String] = []) -> ProcessEvent {
        .exec(
            ExecRecord(
                process: identity, timestampNs: ms(atMs), comm: comm, filename: "/usr/bin/\(comm)", arguments: [comm] + arguments,
                stdio: []))
    }

    func execID(atMs: UInt64) -> ExecID { ExecID(pid: pid, execNs: ms(atMs)) }

    func exit(atMs: UInt64, code: UInt32 = 0) -> ProcessEvent {
        .exit(identity, timestampNs: ms(atMs), exitCode: code, comm: "")
    }
}

extension ProcessCache {
    mutating func apply(_ events: [ProcessEvent]) {
        for event in events { apply(event) }
    }

    /// Every count adds up and no table outgrew the entries it indexes.
    var isConsistent: Bool {
        let statistics = self.statistics
        let indexed = programsByPid.values.reduce(0) { $0 + $1.count }
        let exited = slots.values.filter(\.entry.isExited).count
        let pinnedNow = slots.values.filter(\.expired).count
        return statistics.inserted == statistics.entries + statistics.evictions + statistics.collected
            && indexed == slots.count && exited == exitedCount && pinnedNow == pinnedCount && slots.count <= configuration.maxEntries
            && tombstones.count <= configuration.maxTombstones
    }
}
