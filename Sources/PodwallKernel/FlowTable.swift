import PodwallABI
import PodwallCore

/// The kernel's flow table (an LRU hash), seen from the pods.
public struct FlowTable: Sendable {
    let map: BPFMap<pw_flow_key, pw_flow_value>

    /// Every flow, read in batches.
    public func records() -> [FlowRecord] {
        map.entries().map { FlowRecord($0.key, $0.value) }
    }

    public var count: Int { map.keys().count }

    /// How many flows the table holds at most.
    public var capacity: Int { map.capacity }

    /// Removes the flows `shouldRemove` picks and returns those it removed
    /// (not one the kernel or the LRU removed first).
    public func removeAll(where shouldRemove: (FlowRecord) -> Bool) -> [FlowRecord] {
        map.entries().compactMap { key, value in
            let record = FlowRecord(key, value)
            guard shouldRemove(record), (try? map.delete(key)) == true else { return nil }
            return record
        }
    }
}
