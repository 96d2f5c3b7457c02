/// The node's pod processes, built from the kernel's process ring and a
/// /proc snapshot at start: each program run (ExecID) with its parent, so
/// a flow or an exec can be told with its lineage.
///
/// Exited programs stay `graceNs` for late lookups and late events, and
/// longer while an entry still here names them as parent, so ancestry stays
/// complete while descendants live. `maxEntries` bounds it under pod churn
/// and lost exits. One owner (the agent's process task); lookups are
/// mutating because they count.
public struct ProcessCache: Sendable {
    struct Slot: Sendable {
        var entry: ProcessEntry
        /// Tells this entry's queue stamps from stale ones for the same ExecID.
        var sequence: UInt64
        /// Entries in the cache naming this one as parent.
        var children: UInt32 = 0
        /// Past its grace period, kept for its children.
        var expired = false
    }

    struct Tombstone: Sendable {
        var startNs: UInt64
        var exitNs: UInt64
        var exitCode: UInt32
        var sequence: UInt64
    }

    public let configuration: Configuration
    var slots: [ExecID: Slot] = [:]
    /// Each pid's programs in the cache by exec time, over its processes (pid reuse).
    var programsByPid: [UInt32: [ExecID]] = [:]
    var insertionOrder = ArrivalQueue<ExecID>()
    /// Exited, within their grace period: in the order the exits came.
    var exitOrder = ArrivalQueue<ExecID>()
    /// Past their grace period, kept as parents.
    var pinned = ArrivalQueue<ExecID>()
    var tombstones: [UInt32: Tombstone] = [:]
    var tombstoneOrder = ArrivalQueue<UInt32>()
    var sequence: UInt64 = 0
    var exitedCount = 0
    var pinnedCount = 0
    var counts = ProcessCacheStatistics()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        counts.estimatedBytesPerEntry = ProcessCacheMemory.typicalBytesPerEntry
        counts.worstCaseBytesPerEntry = ProcessCacheMemory.worstCaseBytesPerEntry(configuration)
    }

    public var statistics: ProcessCacheStatistics {
        var statistics = counts
        statistics.entries = slots.count
        statistics.exited = exitedCount
        statistics.live = slots.count - exitedCount
        statistics.tombstones = tombstones.count
        return statistics
    }

    public mutating func apply(_ event: ProcessEvent) {
        switch event {
        case .fork(let process, _, let comm): fork(process, comm: comm)
        case .exec(let record): exec(record)
        case .exit(let process, let timeNs, let exitCode, _): exit(process, at: timeNs, exitCode: exitCode)
        case .stdioRedirect, .relayConnect, .file, .breakout: break  // changes no program
        }
        compactQueues()
    }

    /// Processes found in /proc at agent start; one whose events came first is skipped.
    public mutating func seed(_ snapshot: [RunningProcess]) {
        // Parents before children: by start, then pid for those started in the same tick.
        for process in snapshot.sorted(by: { ($0.startNs, $0.pid) < ($1.startNs, $1.pid) }) where !contains(process.identity) {
            let (arguments, cut) = configuration.bounded(process.arguments)
            let parent = programID(pid: process.parentPid, at: process.startNs + configuration.startSlackNs)
            insert(
                ProcessEntry(
                    execID: ExecID(pid: process.pid, execNs: process.startNs), identity: process.identity, comm: process.comm,
                    filename: configuration.bounded(process.filename), arguments: arguments, argumentsTruncated: cut, parent: parent,
                    origin: .procfs))
        }
        compactQueues()
    }

    /// Frees exited entries past their grace period that no entry here names as parent.
    public mutating func collect(now: UInt64) {
        guard now >= configuration.graceNs else { return }
        let deadline = now - configuration.graceNs
        while let stamp = exitOrder.first, stamp.timeNs <= deadline {
            _ = exitOrder.popFirst()
            guard let slot = slots[stamp.key], slot.sequence == stamp.sequence else { continue }
            if slot.children == 0 {
                counts.collected += 1
                remove(stamp.key)
            } else {
                slots[stamp.key]?.expired = true
                pinnedCount += 1
                pinned.append(stamp)
            }
        }
        while let stamp = tombstoneOrder.first, stamp.timeNs <= deadline {
            _ = tombstoneOrder.popFirst()
            if tombstones[stamp.key]?.sequence == stamp.sequence { tombstones[stamp.key] = nil }
        }
        compactQueues()
    }

    func isSameStart(_ first: UInt64, _ second: UInt64) -> Bool {
        (first > second ? first - second : second - first) <= configuration.startSlackNs
    }

    func isProgram(_ id: ExecID, of process: ProcessIdentity) -> Bool {
        slots[id].map { isSameStart($0.entry.identity.startNs, process.startNs) } ?? false
    }

    func contains(_ process: ProcessIdentity) -> Bool {
        programsByPid[process.pid]?.contains { isProgram($0, of: process) } ?? false
    }

    /// The program `pid` ran at `timeNs`: its latest started by then.
    func programID(pid: UInt32, at timeNs: UInt64) -> ExecID? {
        programsByPid[pid]?.last { $0.execNs <= timeNs }
    }

    mutating func markExited(_ id: ExecID, at timeNs: UInt64, exitCode: UInt32?) {
        guard let slot = slots[id], !slot.entry.isExited else { return }
        slots[id]?.entry.exitedNs = timeNs
        slots[id]?.entry.exitCode = exitCode
        exitedCount += 1
        exitOrder.append(.init(key: id, sequence: slot.sequence, timeNs: timeNs))
    }

    mutating func insert(_ newEntry: ProcessEntry) {
        var entry = newEntry
        if let exit = knownExit(of: entry.identity) {
            counts.lateEvents += 1
            entry.exitedNs = exit.timeNs
            entry.exitCode = exit.exitCode
        }
        if slots.count >= configuration.maxEntries { evictOne() }
        sequence += 1
        let id = entry.execID
        // After the eviction, which may have taken the parent.
        if let parent = entry.parent { slots[parent]?.children += 1 }
        slots[id] = Slot(entry: entry, sequence: sequence)
        let position = programsByPid[id.pid].map { ids in (ids.lastIndex { $0.execNs <= id.execNs } ?? -1) + 1 } ?? 0
        programsByPid[id.pid, default: []].insert(id, at: position)
        insertionOrder.append(.init(key: id, sequence: sequence, timeNs: entry.execNs))
        if let exitedNs = entry.exitedNs {
            exitedCount += 1
            exitOrder.append(.init(key: id, sequence: sequence, timeNs: exitedNs))
        }
        counts.inserted += 1
    }

    /// Exited entries first (the oldest exits), then kept parents, then the oldest live.
    mutating func evictOne() {
        guard
            let id = Self.popValid(&exitOrder, in: slots) ?? Self.popValid(&pinned, in: slots) ?? Self.popValid(&insertionOrder, in: slots)
        else { return }
        counts.evictions += 1
        remove(id)
    }

    static func popValid(_ queue: inout ArrivalQueue<ExecID>, in slots: [ExecID: Slot]) -> ExecID? {
        while let stamp = queue.popFirst() {
            if slots[stamp.key]?.sequence == stamp.sequence { return stamp.key }
        }
        return nil
    }

    /// Frees `id`; a parent past its grace period that only it kept follows, and so on up.
    mutating func remove(_ id: ExecID) {
        var next: ExecID? = id
        while let id = next, let slot = slots.removeValue(forKey: id) {
            next = nil
            programsByPid[id.pid]?.removeAll { $0 == id }
            if programsByPid[id.pid]?.isEmpty == true { programsByPid[id.pid] = nil }
            if slot.entry.isExited { exitedCount -= 1 }
            if slot.expired { pinnedCount -= 1 }
            guard let parentID = slot.entry.parent, let parent = slots[parentID], parent.children > 0 else { continue }
            slots[parentID]?.children -= 1
            if parent.children == 1 && parent.expired {
                counts.collected += 1
                next = parentID
            }
        }
    }

    mutating func addTombstone(_ process: ProcessIdentity, exitNs: UInt64, exitCode: UInt32) {
        if tombstones[process.pid] == nil && tombstones.count >= configuration.maxTombstones {
            while let stamp = tombstoneOrder.popFirst() {
                guard tombstones[stamp.key]?.sequence == stamp.sequence else { continue }
                tombstones[stamp.key] = nil
                counts.tombstonesDropped += 1
                break
            }
        }
        sequence += 1
        tombstones[process.pid] = Tombstone(startNs: process.startNs, exitNs: exitNs, exitCode: exitCode, sequence: sequence)
        tombstoneOrder.append(.init(key: process.pid, sequence: sequence, timeNs: exitNs))
    }

    /// Keeps each queue within about twice its valid stamps.
    mutating func compactQueues() {
        let slots = self.slots
        let isValid = { (stamp: ArrivalQueue<ExecID>.Stamp) in slots[stamp.key]?.sequence == stamp.sequence }
        insertionOrder.compact(validCount: slots.count, isValid: isValid)
        exitOrder.compact(validCount: exitedCount - pinnedCount, isValid: isValid)
        pinned.compact(validCount: pinnedCount, isValid: isValid)
        let tombstones = self.tombstones
        tombstoneOrder.compact(validCount: tombstones.count) { tombstones[$0.key]?.sequence == $0.sequence }
    }
}
