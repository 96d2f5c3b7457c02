import Glibc
import PodwallABI
import PodwallCore

/// The kernel's blocklist: single addresses in a hash map, prefixes in an
/// LPM trie, each entry carrying the feed slots that list it (a bitmask) and
/// a dynamic bit for entries added by hand or by detection, with an expiry.
///
/// Every change is applied additions first, then removals, and an entry
/// that moves between feeds is updated in place: no address that stays
/// listed is ever absent from the kernel, not even for one packet.
/// The store keeps a mirror of what it wrote, so that a reload of a
/// million-entry feed only touches what changed.
public final class Blocklist: @unchecked Sendable {
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
    }

    public static let dynamicBit: UInt64 = 1 << 63

    let hosts: BPFMap<pw_addr_key, pw_block_entry>
    let nets: BPFMap<pw_lpm_key, pw_block_entry>
    let feedSlots: BPFMap<UInt32, pw_feed>
    private var mirror: [IPPrefix: Entry]?

    public init(hosts: BPFMap<pw_addr_key, pw_block_entry>, nets: BPFMap<pw_lpm_key, pw_block_entry>,
                feeds: BPFMap<UInt32, pw_feed>) {
        self.hosts = hosts
        self.nets = nets
        feedSlots = feeds
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

    private func current() -> [IPPrefix: Entry] {
        if let mirror { return mirror }
        let read = entries()
        mirror = read
        return read
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
        let names = Dictionary(feeds().map { ($0.slot, $0.name) }, uniquingKeysWith: { first, _ in first })
        var result = (0..<UInt32(PW_FEED_SLOTS)).filter { bits & (1 << UInt64($0)) != 0 }.map { names[$0] ?? "slot\($0)" }
        if bits & Self.dynamicBit != 0 { result.append("dynamic") }
        return result
    }

    /// What feed `name` lists now.
    public func prefixes(ofFeed name: String) -> Set<IPPrefix> {
        guard let slot = feeds().first(where: { $0.name == name })?.slot else { return [] }
        let bit: UInt64 = 1 << UInt64(slot)
        return Set(current().filter { $0.value.feeds & bit != 0 }.keys)
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
    public func replaceFeed(_ name: String, with prefixes: Set<IPPrefix>) throws -> Change {
        let slot = try slot(for: name)
        let bit: UInt64 = 1 << UInt64(slot)
        var state = current()
        var writes: [(IPPrefix, Entry)] = []
        var change = Change()
        for prefix in prefixes {
            if var entry = state[prefix] {
                guard entry.feeds & bit == 0 else { continue }
                entry.feeds |= bit
                writes.append((prefix, entry))
                change.updated += 1
            } else {
                writes.append((prefix, Entry(feeds: bit, expiresNs: 0, hits: 0)))
                change.added += 1
            }
        }
        var removals: [(IPPrefix, Entry)] = []
        for (prefix, entry) in state where entry.feeds & bit != 0 && !prefixes.contains(prefix) {
            var remaining = entry
            remaining.feeds &= ~bit
            removals.append((prefix, remaining))
        }
        try write(writes, into: &state)
        try remove(removals, from: &state, change: &change)
        mirror = state
        try recordFeed(name, slot: slot, entries: prefixes.count)
        return change
    }

    /// Unlists a feed: its entries go unless another feed (or a dynamic
    /// entry) still lists them.
    @discardableResult
    public func removeFeed(_ name: String) throws -> Change {
        guard let slot = feeds().first(where: { $0.name == name })?.slot else {
            throw KernelError("removing feed", name, errno: ENOENT)
        }
        let change = try replaceFeed(name, with: [])
        try feedSlots.update(slot, pw_feed())
        return change
    }

    // MARK: Dynamic entries

    /// Lists `prefix` by hand or for detection; `expiresNs` is kernel
    /// monotonic time (0 = never).
    public func addDynamic(_ prefix: IPPrefix, expiresNs: UInt64) throws {
        var state = current()
        var entry = state[prefix] ?? Entry(feeds: 0, expiresNs: 0, hits: 0)
        entry.feeds |= Self.dynamicBit
        entry.expiresNs = expiresNs
        try write([(prefix, entry)], into: &state)
        mirror = state
    }

    /// Removes the dynamic listing of `prefix`. Returns the feeds that still
    /// list it (then it stays blocked), or nil if it was not listed at all.
    public func removeDynamic(_ prefix: IPPrefix) throws -> [String]? {
        var state = current()
        guard var entry = state[prefix] else { return nil }
        entry.feeds &= ~Self.dynamicBit
        entry.expiresNs = 0
        var change = Change()
        try remove([(prefix, entry)], from: &state, change: &change)
        mirror = state
        return feedNames(entry.feeds)
    }

    /// Deletes dynamic-only entries whose time is up (the kernel already
    /// ignores them). Returns what was removed.
    public func expire(nowNs: UInt64) throws -> [IPPrefix] {
        var state = current()
        let expired = state.filter { $0.value.feeds == Self.dynamicBit && $0.value.expiresNs != 0 && $0.value.expiresNs <= nowNs }
        var change = Change()
        try remove(expired.map { ($0.key, Entry(feeds: 0, expiresNs: 0, hits: 0)) }, from: &state, change: &change)
        mirror = state
        return Array(expired.keys)
    }

    // MARK: Lookups

    /// What the kernel would match for `address`: the single address first,
    /// then the longest listed prefix (with its current hit count).
    public func match(_ address: IPAddress) -> (prefix: IPPrefix, entry: Entry)? {
        if let value = hosts.lookup(pw_addr_key(address)) {
            return (IPPrefix(host: address), Entry(value))
        }
        let state = current()
        // IPv4 prefixes span mapped lengths 96...128 (feeds refuse IPv6
        // prefixes wide enough to cover the mapped range).
        for length in stride(from: 127, through: address.family == .v4 ? 96 : 0, by: -1) {
            let prefix = IPPrefix(address: address, mappedLength: length)
            // A trie lookup at the prefix's own length returns that exact entry.
            if state[prefix] != nil, let value = nets.lookup(pw_lpm_key(prefix)) {
                return (prefix, Entry(value))
            }
        }
        return nil
    }

    // MARK: Writing

    private func write(_ entries: [(IPPrefix, Entry)], into state: inout [IPPrefix: Entry]) throws {
        var hostWrites: [(pw_addr_key, pw_block_entry)] = []
        var netWrites: [(pw_lpm_key, pw_block_entry)] = []
        hostWrites.reserveCapacity(entries.count)
        for (prefix, entry) in entries {
            var value = pw_block_entry()
            value.feeds = entry.feeds
            value.expires_ns = entry.expiresNs
            value.hits = state[prefix]?.hits ?? 0
            if prefix.isSingleAddress {
                hostWrites.append((pw_addr_key(prefix.address), value))
            } else {
                netWrites.append((pw_lpm_key(prefix), value))
            }
            state[prefix] = entry
        }
        try hosts.updateBatch(hostWrites)
        try nets.updateBatch(netWrites)
    }

    /// Entries whose feeds became empty are deleted, others rewritten.
    private func remove(_ entries: [(IPPrefix, Entry)], from state: inout [IPPrefix: Entry], change: inout Change) throws {
        let (gone, kept) = (entries.filter { $0.1.feeds == 0 }, entries.filter { $0.1.feeds != 0 })
        try write(kept, into: &state)
        change.updated += kept.count
        for (prefix, _) in gone {
            if prefix.isSingleAddress {
                try hosts.delete(pw_addr_key(prefix.address))
            } else {
                try nets.delete(pw_lpm_key(prefix))
            }
            state[prefix] = nil
        }
        change.removed += gone.count
    }
}

extension Blocklist.Entry {
    init(_ value: pw_block_entry) {
        self.init(feeds: value.feeds, expiresNs: value.expires_ns, hits: value.hits)
    }
}
