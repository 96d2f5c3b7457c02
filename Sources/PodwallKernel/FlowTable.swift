import PodwallABI
import PodwallCore

/// The kernel's flow table (an LRU hash), seen from the pods.
public struct FlowTable: Sendable {
    let map: BPFMap<pw_flow_key, pw_flow_value>

    /// Every flow, read in batches.
    public func records() -> [FlowRecord] {
        map.entries().map { FlowRecord($0.key, $0.value) }
    }

    /// Every flow, read in batches, stamped with the time the read began.
    public func snapshot() -> FlowSnapshot {
        let now = MonotonicClock.now()
        return FlowSnapshot(entries: map.entries(), takenNs: now)
    }

    public var count: Int { map.keys().count }

    /// How many flows the table holds at most.
    public var capacity: Int { map.capacity }

    /// Removes the flows `shouldRemove` picks in `snapshot`, each only if it
    /// still picks the entry as read again now (a packet since the snapshot,
    /// or a new connection on the same ports, keeps it), and returns those
    /// removed as last read (not one the kernel or the LRU removed first).
    /// Walks the snapshot, not the table: one lookup per candidate.
    public func remove(picking shouldRemove: (FlowRecord) -> Bool, from snapshot: FlowSnapshot) -> [FlowRecord] {
        zip(snapshot.keys, snapshot.records).compactMap { key, record in
            guard shouldRemove(record), let value = try? map.lookup(key) else { return nil }
            let current = FlowRecord(key, value)
            guard shouldRemove(current), (try? map.delete(key)) == true else { return nil }
            return current
        }
    }
}
