import PodwallABI
import PodwallCore

/// One read of the kernel's flow table and when it began. The agent takes
/// one per sample period and its readers (volume sampler, idle sweeper,
/// metrics, API) share it: the table, 262,144 entries by default, is walked
/// once per period instead of once per reader.
public struct FlowSnapshot: Sendable {
    public let records: [FlowRecord]
    /// Kernel monotonic nanoseconds when the read began: no record is older.
    public let takenNs: UInt64
    /// The kernel's keys, one per record: a flow picked from the snapshot
    /// is found again by exactly the key it was read under.
    let keys: [pw_flow_key]

    init(entries: [(key: pw_flow_key, value: pw_flow_value)], takenNs: UInt64) {
        records = entries.map { FlowRecord($0.key, $0.value) }
        keys = entries.map(\.key)
        self.takenNs = takenNs
    }

    /// How old the snapshot is at `now` (monotonic nanoseconds).
    public func ageNs(at now: UInt64) -> UInt64 { now > takenNs ? now - takenNs : 0 }
}
