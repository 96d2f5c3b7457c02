/// The kernel's fork, exec and exit, tolerating loss, duplicates and
/// reordering: no phantom parents, late events of exited processes entered
/// as exited, a reused pid closing the process whose exit was lost.
extension ProcessCache {
    mutating func fork(_ process: ProcessIdentity, comm: String) {
        // Already known: a duplicate, or its exec came first (reordered).
        guard !contains(process) else { return }
        closeEarlierProcesses(before: process)
        let parentID = programID(pid: process.parentPid, at: process.startNs)
        let parent = parentID.flatMap { slots[$0]?.entry }
        if parent == nil { counts.parentMisses += 1 }
        insert(
            ProcessEntry(
                execID: ExecID(pid: process.pid, execNs: process.startNs), identity: process, comm: parent?.comm ?? comm,
                filename: parent?.filename ?? "", arguments: parent?.arguments ?? [],
                argumentsTruncated: parent?.argumentsTruncated ?? false,
                parent: parentID, origin: .fork))
    }

    mutating func exec(_ record: ExecRecord) {
        let process = record.process
        guard slots[record.execID] == nil else { return }
        closeEarlierProcesses(before: process)
        // The process's previous program; else (its fork unseen) its parent's program when it forked.
        let parentID =
            programsByPid[process.pid]?.last { $0.execNs < record.timestampNs && isProgram($0, of: process) }
            ?? programID(pid: process.parentPid, at: process.startNs)
        if parentID == nil { counts.parentMisses += 1 }
        let (arguments, cut) = configuration.bounded(record.arguments)
        insert(
            ProcessEntry(
                execID: record.execID, identity: process, comm: record.comm, filename: configuration.bounded(record.filename),
                arguments: arguments, argumentsTruncated: record.argumentsTruncated || cut, parent: parentID, origin: .exec))
    }

    mutating func exit(_ process: ProcessIdentity, at timeNs: UInt64, exitCode: UInt32) {
        closeEarlierProcesses(before: process)
        let programs = programsByPid[process.pid]?.filter { isProgram($0, of: process) } ?? []
        guard !programs.isEmpty else { return addTombstone(process, exitNs: timeNs, exitCode: exitCode) }
        for id in programs { markExited(id, at: timeNs, exitCode: exitCode) }
    }

    /// A newer process has the pid: the older ones' exits were lost.
    mutating func closeEarlierProcesses(before process: ProcessIdentity) {
        for id in programsByPid[process.pid] ?? [] {
            guard let entry = slots[id]?.entry, !entry.isExited, entry.identity.startNs + configuration.startSlackNs < process.startNs
            else { continue }
            counts.inferredExits += 1
            markExited(id, at: process.startNs, exitCode: nil)
        }
    }

    /// How the process ended, if its exit came before this event.
    mutating func knownExit(of process: ProcessIdentity) -> (timeNs: UInt64, exitCode: UInt32?)? {
        for id in programsByPid[process.pid] ?? [] where isProgram(id, of: process) {
            if let entry = slots[id]?.entry, let exitedNs = entry.exitedNs { return (exitedNs, entry.exitCode) }
        }
        if let tombstone = tombstones[process.pid], isSameStart(tombstone.startNs, process.startNs) {
            return (tombstone.exitNs, tombstone.exitCode)
        }
        return nil
    }
}
