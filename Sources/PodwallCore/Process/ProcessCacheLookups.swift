/// Lookups, each counted, and a miss counted when nothing is found: the
/// "process not found in cache" rate the agent exports.
extension ProcessCache {
    /// The pid's newest program: live, or exited within its grace period
    /// (`exitedNs` says), so late lookups still find it.
    public mutating func current(pid: UInt32) -> ProcessEntry? {
        counted(programsByPid[pid]?.last.flatMap { slots[$0]?.entry })
    }

    public mutating func entry(_ id: ExecID) -> ProcessEntry? {
        counted(slots[id]?.entry)
    }

    /// Parent first, up to `limit`, stopping at the first program not in the cache.
    public mutating func ancestry(of id: ExecID, limit: Int = 8) -> [ProcessEntry] {
        var next = entry(id)?.parent
        var chain: [ProcessEntry] = []
        while chain.count < limit, let parentID = next, let parent = slots[parentID]?.entry {
            chain.append(parent)
            next = parent.parent
        }
        return chain
    }

    /// "java -> sh -> bash", this program last; nil when it is not in the cache.
    public mutating func lineage(of id: ExecID, limit: Int = 8) -> String? {
        guard let entry = slots[id]?.entry else { return nil }
        return entry.lineage(ancestry: ancestry(of: id, limit: limit))
    }

    /// Which program opened a flow: the one `pid` (a tgid) ran when the flow
    /// was first seen. A socket opened before an exec stays with the program
    /// that opened it (`nc -e sh` connects, then execs the shell); one
    /// opened after goes to the new program.
    public mutating func attribute(pid: UInt32, at firstSeenNs: UInt64) -> ExecID? {
        counted(programID(pid: pid, at: firstSeenNs))
    }

    private mutating func counted<Found>(_ found: Found?) -> Found? {
        counts.lookups += 1
        if found == nil { counts.misses += 1 }
        return found
    }
}
