/// What the agent exports of its process cache. Every entry ever inserted
/// is still there, evicted or collected: `inserted == entries + evictions + collected`.
public struct ProcessCacheStatistics: Hashable, Sendable {
    public var entries = 0
    public var live = 0
    public var exited = 0
    public var inserted = 0
    /// `current(pid:)`, `entry(_:)`, `ancestry(of:)`, `attribute(pid:at:)` calls...
    public var lookups = 0
    /// ...that found nothing: "process not found in cache".
    public var misses = 0
    /// Forks and execs whose parent was not in the cache (lost or outside the pods); no phantom parent is made.
    public var parentMisses = 0
    /// Entries dropped to stay within `maxEntries`: memory pressure, ancestry lost.
    public var evictions = 0
    /// Entries freed after their grace period, with no child left in the cache.
    public var collected = 0
    /// Exits of processes not in the cache, kept for a late fork or exec.
    public var tombstones = 0
    /// Tombstones dropped to stay within `maxTombstones`.
    public var tombstonesDropped = 0
    /// Forks and execs that arrived after their process's exit (reordered), entered as exited.
    public var lateEvents = 0
    /// Entries closed because their pid started a newer process: the exit was lost.
    public var inferredExits = 0
    /// See `ProcessCacheMemory`.
    public var estimatedBytesPerEntry = 0
    public var worstCaseBytesPerEntry = 0

    public init() {}

    public var estimatedBytes: Int { entries * estimatedBytesPerEntry }
}
