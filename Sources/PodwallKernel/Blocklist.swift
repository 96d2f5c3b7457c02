import Foundation
import Glibc
import PodwallABI
import PodwallCore
import Synchronization

/// The kernel's blocklist: single addresses in a hash map, prefixes in an
/// LPM trie, each entry carrying the feed slots that list it (a bitmask) and
/// a dynamic bit for entries added by hand or by detection, with an expiry.
///
/// Every change is applied additions first, then removals, and an entry
/// that moves between feeds is updated in place: no address that stays
/// listed is ever absent from the kernel, not even for one packet.
/// The store keeps a mirror of what it wrote, so that a reload of a
/// million-entry feed only touches what changed.
public final class Blocklist: Sendable {
    public struct Entry: Hashable, Sendable {
        public var feeds: UInt64
        public var expiresNs: UInt64
        public var hits: UInt64

        public var isDynamic: Bool { feeds & Blocklist.dynamicBit != 0 }
    }

    public struct Change: Sendable, CustomStringConvertible {
        public var added = 0
        public var removed = 0
        public var updated = 0
        public var description: String { "+\(added) -\(removed) ~\(updated)" }

        public init() {}
    }

    public static let dynamicBit: UInt64 = 1 << 63

    let hosts: BPFMap<pw_addr_key, pw_block_entry>
    let nets: BPFMap<pw_lpm_key, pw_block_entry>
    let feedSlots: BPFMap<UInt32, pw_feed>
    let policy: PolicyGeneration

    /// What the kernel lists, as this store knows it. Feed reloads,
    /// responses, the API and the expiry sweep call in from different
    /// threads: one change at a time, so that no interleaving can delete an
    /// entry another call has just listed.
    private let mirror = Mutex(BlocklistMirror())

    public init(
        hosts: BPFMap<pw_addr_key, pw_block_entry>, nets: BPFMap<pw_lpm_key, pw_block_entry>,
        feeds: BPFMap<UInt32, pw_feed>, policy: PolicyGeneration
    ) {
        self.hosts = hosts
        self.nets = nets
        feedSlots = feeds
        self.policy = policy
    }

    /// Every entry now in the kernel (hit counts as of this read).
    public func entries() -> [IPPrefix: Entry] {
        var result: [IPPrefix: Entry] = [:]
        for (key, value) in hosts.entries() {
            result[IPPrefix(host: IPAddress(tuple: key.addr))] = Entry(value)
        }
        for (key, value) in nets.entries() {
            result[IPPrefix(address: IPAddress(tuple: key.addr), mappedLength: Int(key.prefixlen))] = Entry(value)
        }
        return result
    }

    /// Reads the kernel's entries once (a restarted agent, or the CLI); the
    /// agent calls it at start, so that its first response to an alert
    /// does not wait for a walk of every hash bucket.
    public func loadKernelState() {
        mirror.withLock { load(&$0) }
    }

    private func load(_ mirror: inout BlocklistMirror) {
        guard !mirror.loaded else { return }
        mirror.loaded = true
        var listed: [UInt32: [IPPrefix]] = [:]
        let current = entries()
        for (prefix, entry) in current {
            for slot in 0..<UInt32(PW_FEED_SLOTS) where entry.feeds & (1 << UInt64(slot)) != 0 {
                listed[slot, default: []].append(prefix)
            }
            if entry.isDynamic { mirror.dynamic[prefix] = entry.expiresNs }
        }
        mirror.members = listed.mapValues { SortedPrefixes($0) }
        mirror.inUse = KeyCounts(current.keys)
    }

    // MARK: Feeds

    /// Feed names by slot.
    public func feeds() -> [(slot: UInt32, name: String, feed: pw_feed)] {
        feedSlots.entries().filter { $0.value.in_use != 0 }.map { entry in
            let name = withUnsafeBytes(of: entry.value.name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            return (entry.key, name, entry.value)
        }.sorted { $0.slot < $1.slot }
    }

    public func feedNames(_ bits: UInt64) -> [String] {
        feedNamer()(bits)
    }

    /// Names feed bits as `feedNames` does, reading the feed slots once: for
    /// naming a page of entries.
    public func feedNamer() -> @Sendable (UInt64) -> [String] {
        let names = Dictionary(feeds().map { ($0.slot, $0.name) }, uniquingKeysWith: { first, _ in first })
        return { bits in
            var result = (0..<UInt32(PW_FEED_SLOTS)).filter { bits & (1 << UInt64($0)) != 0 }.map { names[$0] ?? "slot\($0)" }
            if bits & Self.dynamicBit != 0 { result.append("dynamic") }
            return result
        }
    }

    /// What feed `name` lists now.
    public func prefixes(ofFeed name: String) -> SortedPrefixes {
        mirror.withLock { mirror in
            load(&mirror)
            guard let slot = feeds().first(where: { $0.name == name })?.slot else { return SortedPrefixes() }
            return mirror.members[slot] ?? SortedPrefixes()
        }
    }

    private func slot(for name: String) throws -> UInt32 {
        let known = feeds()
        if let existing = known.first(where: { $0.name == name }) { return existing.slot }
        guard let free = (0..<UInt32(PW_FEED_SLOTS)).first(where: { slot in !known.contains { $0.slot == slot } }) else {
            throw KernelError("allocating a feed slot (all \(PW_FEED_SLOTS) in use) for", name, errno: ENOSPC)
        }
        return free
    }

    private func recordFeed(_ name: String, slot: UInt32, entries: Int) throws {
        var feed = pw_feed()
        withUnsafeMutableBytes(of: &feed.name) { raw in
            let bytes = Array(name.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        feed.updated_ns = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        feed.entries = UInt32(entries)
        feed.in_use = 1
        try feedSlots.update(slot, feed)
    }

    /// Makes the kernel list exactly `prefixes` for feed `name`, changing
    /// only what differs from its previous version.
    @discardableResult
    public func replaceFeed(_ name: String, with prefixes: SortedPrefixes) throws -> Change {
        try mirror.withLock { try replaceFeed(name, with: prefixes, in: &$0) }
    }

    private func replaceFeed(_ name: String, with prefixes: SortedPrefixes, in mirror: inout BlocklistMirror) throws -> Change {
        load(&mirror)
        let slot = try slot(for: name)
        let bit: UInt64 = 1 << UInt64(slot)
        let (added, dropped) = prefixes.difference(from: mirror.members[slot] ?? SortedPrefixes())
        // Only entries that other feeds (or a dynamic listing) share need their bits merged in.
        let shared = mirror.members.keys.contains { $0 != slot } || !mirror.dynamic.isEmpty
        var change = Change()
        var fresh: [(IPPrefix, UInt64)] = []
        var sharedWrites: [(IPPrefix, UInt64)] = []
        fresh.reserveCapacity(added.count)
        if shared {
            for (prefix, others) in zip(added, mirror.feedBits(ofSorted: added, excluding: slot)) {
                if others == 0 { fresh.append((prefix, bit)) } else { sharedWrites.append((prefix, others | bit)) }
            }
        } else {
            fresh = added.map { ($0, bit) }
        }
        // A change the maps cannot hold is refused before any write: a batch
        // that fails half-way would leave entries this store does not know of.
        // Additions come before removals, so the peak is what is in use now
        // plus the new keys, whatever this change removes afterwards.
        // The trie keeps one slot free: before Linux 6.14 a full trie refuses
        // even to rewrite an entry it holds, which shared entries need.
        let adding = KeyCounts(fresh.lazy.map(\.0))
        for (count, room, kind) in [
            (adding.hosts, hosts.capacity - mirror.inUse.hosts, "single addresses"),
            (adding.nets, nets.capacity - 1 - mirror.inUse.nets, "prefixes")
        ]
        where count > room {
            throw KernelError("adding \(count) \(kind) (the kernel map has room for \(room)) for feed", name, errno: ENOSPC)
        }
        change.added = fresh.count
        change.updated = sharedWrites.count
        let removals = Array(
            zip(
                dropped,
                shared
                    ? mirror.feedBits(ofSorted: dropped, excluding: slot)
                    : [UInt64](repeating: 0, count: dropped.count)))
        try mirror.forgettingOnError { mirror in
            try write(fresh, keepingHits: false, mirror)
            mirror.inUse.add(fresh.lazy.map(\.0))
            try write(sharedWrites, keepingHits: true, mirror)
            mirror.members[slot] = prefixes.isEmpty ? nil : prefixes
            try remove(removals, change: &change, &mirror)
        }
        if !added.isEmpty || !dropped.isEmpty { try policy.bump() }
        try recordFeed(name, slot: slot, entries: prefixes.count)
        return change
    }

    @discardableResult
    public func replaceFeed(_ name: String, with prefixes: Set<IPPrefix>) throws -> Change {
        try replaceFeed(name, with: SortedPrefixes(prefixes))
    }

    /// Unlists a feed: its entries go unless another feed (or a dynamic
    /// entry) still lists them.
    @discardableResult
    public func removeFeed(_ name: String) throws -> Change {
        try mirror.withLock { mirror in
            guard let slot = feeds().first(where: { $0.name == name })?.slot else {
                throw KernelError("removing feed", name, errno: ENOENT)
            }
            let change = try replaceFeed(name, with: SortedPrefixes(), in: &mirror)
            try feedSlots.update(slot, pw_feed())
            return change
        }
    }

    // MARK: Dynamic entries

    /// Lists `prefix` by hand or for detection; `expiresNs` is kernel
    /// monotonic time (0 = never).
    public func addDynamic(_ prefix: IPPrefix, expiresNs: UInt64) throws {
        try mirror.withLock { mirror in
            load(&mirror)
            let isNew = mirror.feedBits(prefix) == 0
            try mirror.forgettingOnError { mirror in
                mirror.dynamic[prefix] = expiresNs
                try write([(prefix, mirror.feedBits(prefix))], keepingHits: true, mirror)
            }
            if isNew { mirror.inUse.add([prefix]) }
            try policy.bump()
        }
    }

    /// Removes the dynamic listing of `prefix`. Returns the feeds that still
    /// list it (then it stays blocked), or nil if it was not listed at all.
    public func removeDynamic(_ prefix: IPPrefix) throws -> [String]? {
        try mirror.withLock { mirror -> [String]? in
            load(&mirror)
            let before = mirror.feedBits(prefix)
            guard before != 0 else { return nil }
            mirror.dynamic[prefix] = nil
            var change = Change()
            try mirror.forgettingOnError { mirror in try remove([(prefix, mirror.feedBits(prefix))], change: &change, &mirror) }
            try policy.bump()
            return feedNames(mirror.feedBits(prefix))
        }
    }

    /// Ends dynamic listings whose time is up (the kernel already ignores
    /// them). Returns the prefixes no longer listed at all.
    public func expire(nowNs: UInt64) throws -> [IPPrefix] {
        try mirror.withLock { mirror in
            load(&mirror)
            let expired = mirror.dynamic.filter { $0.value != 0 && $0.value <= nowNs }.map(\.key)
            for prefix in expired { mirror.dynamic[prefix] = nil }
            var change = Change()
            try mirror.forgettingOnError { mirror in
                try remove(expired.map { ($0, mirror.feedBits($0)) }, change: &change, &mirror)
            }
            if !expired.isEmpty { try policy.bump() }
            return expired.filter { mirror.feedBits($0) == 0 }
        }
    }

    // MARK: Lookups

    /// What the kernel would match for `address`: the single address first,
    /// then the longest listed prefix (with its current hit count).
    public func match(_ address: IPAddress) throws -> (prefix: IPPrefix, entry: Entry)? {
        try mirror.withLock { mirror -> (prefix: IPPrefix, entry: Entry)? in
            if let value = try hosts.lookup(pw_addr_key(address)) {
                return (IPPrefix(host: address), Entry(value))
            }
            load(&mirror)
            // IPv4 prefixes span mapped lengths 96...128 (feeds refuse IPv6
            // prefixes wide enough to cover the mapped range).
            for length in stride(from: 127, through: address.family == .v4 ? 96 : 0, by: -1) {
                let prefix = IPPrefix(address: address, mappedLength: length)
                // A trie lookup at the prefix's own length returns that exact entry.
                if mirror.feedBits(prefix) != 0, let value = try nets.lookup(pw_lpm_key(prefix)) {
                    return (prefix, Entry(value))
                }
            }
            return nil
        }
    }

    /// The entries listed for exactly these prefixes (hit counts as of this
    /// read), nil for one no longer listed: one lookup each, for a page of a
    /// listing rather than a walk of every entry.
    public func entries(exactly prefixes: [IPPrefix]) throws -> [Entry?] {
        var result: [Entry?] = []
        result.reserveCapacity(prefixes.count)
        // A chunk at a time under the lock: a long page must not hold up a response's write.
        for start in stride(from: 0, to: prefixes.count, by: 1024) {
            try mirror.withLock { mirror in
                load(&mirror)
                for prefix in prefixes[start..<min(start + 1024, prefixes.count)] {
                    if prefix.isSingleAddress {
                        result.append(try hosts.lookup(pw_addr_key(prefix.address)).map(Entry.init))
                    } else if mirror.feedBits(prefix) != 0 {
                        // The trie answers its longest match: exact for a prefix the mirror lists.
                        result.append(try nets.lookup(pw_lpm_key(prefix)).map(Entry.init))
                    } else {
                        result.append(nil)
                    }
                }
            }
        }
        return result
    }

    // MARK: Writing

    /// Writes entries with the given feed bits. With `keepingHits`, entries
    /// that may exist keep their hit count (read back first; only the few
    /// entries a reload shares or rewrites).
    private func write(_ entries: [(IPPrefix, UInt64)], keepingHits: Bool, _ mirror: BlocklistMirror) throws {
        let batch = try writes(entries, keepingHits: keepingHits, mirror)
        let (hosts, nets) = (self.hosts, self.nets)
        // A response's single entry is written on this thread: on a node
        // whose cores are busy, waiting for pool threads to be scheduled
        // would delay enforcement by milliseconds.
        guard entries.count >= 4096 else {
            try hosts.updateBatch(keys: batch.hostKeys, values: batch.hostValues, range: 0..<batch.hostKeys.count)
            try nets.updateBatch(keys: batch.netKeys, values: batch.netValues, range: 0..<batch.netKeys.count)
            return
        }
        // Spread the inserts over the cores: the hash (bucket locks) takes
        // two writers at once, the trie (one lock) one. Entries come in
        // address order, so consecutive trie inserts walk the same nodes.
        let middle = batch.hostKeys.count / 2
        let errors = ErrorSlots(count: 3)
        DispatchQueue.concurrentPerform(iterations: 3) { index in
            errors.record(index) {
                switch index {
                case 0: try hosts.updateBatch(keys: batch.hostKeys, values: batch.hostValues, range: 0..<middle)
                case 1: try hosts.updateBatch(keys: batch.hostKeys, values: batch.hostValues, range: middle..<batch.hostKeys.count)
                default: try nets.updateBatch(keys: batch.netKeys, values: batch.netValues, range: 0..<batch.netKeys.count)
                }
            }
        }
        try errors.rethrow()
    }

    private struct Writes: Sendable {
        var hostKeys: [pw_addr_key] = [], hostValues: [pw_block_entry] = []
        var netKeys: [pw_lpm_key] = [], netValues: [pw_block_entry] = []
    }

    /// Kernel keys and values for `entries`, in contiguous arrays that
    /// batch updates read without another copy.
    private func writes(_ entries: [(IPPrefix, UInt64)], keepingHits: Bool, _ mirror: BlocklistMirror) throws -> Writes {
        var batch = Writes()
        batch.hostKeys.reserveCapacity(entries.count)
        batch.hostValues.reserveCapacity(entries.count)
        for (prefix, feeds) in entries {
            var value = pw_block_entry()
            value.feeds = feeds
            value.expires_ns = mirror.dynamic.isEmpty ? 0 : mirror.dynamic[prefix] ?? 0
            if prefix.isSingleAddress {
                let key = pw_addr_key(prefix.address)
                if keepingHits { value.hits = try hosts.lookup(key)?.hits ?? 0 }
                batch.hostKeys.append(key)
                batch.hostValues.append(value)
            } else {
                // At its own length a trie lookup finds exactly this prefix.
                let key = pw_lpm_key(prefix)
                if keepingHits, let old = try nets.lookup(key), mirror.feedBits(prefix) != 0 { value.hits = old.hits }
                batch.netKeys.append(key)
                batch.netValues.append(value)
            }
        }
        return batch
    }

    /// Entries left with no feed bits are deleted, the others rewritten.
    private func remove(_ entries: [(IPPrefix, UInt64)], change: inout Change, _ mirror: inout BlocklistMirror) throws {
        let kept = entries.filter { $0.1 != 0 }
        let gone = entries.filter { $0.1 == 0 }.map(\.0)
        try write(kept, keepingHits: true, mirror)
        change.updated += kept.count
        try hosts.deleteBatch(gone.filter(\.isSingleAddress).map { pw_addr_key($0.address) })
        for prefix in gone where !prefix.isSingleAddress {
            try nets.delete(pw_lpm_key(prefix))
        }
        mirror.inUse.add(gone, times: -1)
        change.removed += gone.count
    }
}

/// The kernel's policy generation (pw_config): bumped after every change
/// to the block or allow lists, so flows that passed an older policy are
/// checked again on their next packet. The same entry holds the pods' event
/// budget, written here too so that one façade owns the entry.
public struct PolicyGeneration: Sendable {
    let config: BPFMap<UInt32, pw_config>

    public init(config: BPFMap<UInt32, pw_config>) {
        self.config = config
    }

    public func current() throws -> UInt32 { try config.lookup(0)?.policy_generation ?? 0 }

    public func bump() throws {
        var value = try config.lookup(0) ?? pw_config()
        value.policy_generation &+= 1
        if value.policy_generation == 0 { value.policy_generation = 1 }  // 0 means "never checked"
        try config.update(0, value)
    }

    /// Each pod's budget of new-flow events (0 per second: none); past it a
    /// pod's new flows are summarized in the kernel (PW_EVENT_FLOW_SUMMARY).
    public func setPodEventBudget(perSecond: UInt32, burst: UInt32) throws {
        var value = try config.lookup(0) ?? pw_config()
        value.pod_events_per_second = perSecond
        value.pod_event_burst = burst
        try config.update(0, value)
    }

    public static let defaultPodEventsPerSecond = UInt32(PW_DEFAULT_POD_EVENTS_PER_SECOND)
    public static let defaultPodEventBurst = UInt32(PW_DEFAULT_POD_EVENT_BURST)

    /// A fresh map starts at 0: move it to 1 so that flows can be stamped.
    func start() throws {
        if try current() == 0 { try bump() }
    }
}

/// Errors from concurrent work, rethrown on the calling thread.
final class ErrorSlots: Sendable {
    private let errors: Mutex<[Error?]>

    init(count: Int) { errors = Mutex(Array(repeating: nil, count: count)) }

    func record(_ index: Int, _ body: () throws -> Void) {
        do { try body() } catch { errors.withLock { $0[index] = error } }
    }

    func rethrow() throws {
        if let error = errors.withLock({ $0.compactMap { $0 }.first }) { throw error }
    }
}

extension Blocklist.Entry {
    init(_ value: pw_block_entry) {
        self.init(feeds: value.feeds, expiresNs: value.expires_ns, hits: value.hits)
    }
}
