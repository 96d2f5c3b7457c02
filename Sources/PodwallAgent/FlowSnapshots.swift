import PodwallKernel
import Synchronization

/// The latest flow-table snapshot. The detection driver takes one per sample
/// period; the idle sweeper, metrics and the API read that one instead of
/// walking the kernel's table themselves.
final class FlowSnapshots: Sendable {
    private let table: FlowTable
    private let latest = Mutex<FlowSnapshot?>(nil)

    init(table: FlowTable) {
        self.table = table
    }

    /// Reads the table now; the read becomes the latest.
    @discardableResult
    func take() -> FlowSnapshot {
        let snapshot = table.snapshot()
        latest.withLock { $0 = snapshot }
        return snapshot
    }

    /// The latest snapshot; before the driver's first one, a read of its own.
    func current() -> FlowSnapshot {
        latest.withLock { $0 } ?? take()
    }
}
