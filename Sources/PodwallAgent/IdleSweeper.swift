import PodwallCore
import PodwallKernel

/// Ends idle flows. The kernel cannot see silence, so the agent picks the
/// idle flows from the latest flow-table snapshot (as Cilium's CT garbage
/// collector walks its map), reports each as an `.end(.idle)` event and
/// deletes it, if it is still idle when read again.
struct IdleSweeper {
    let flows: FlowTable
    let idleTimeout: UInt64
    let closedTimeout: UInt64

    func sweep(_ snapshot: FlowSnapshot, now: UInt64) -> [FlowEvent] {
        let removed = flows.remove(picking: { isIdle($0, now: now) }, from: snapshot)
        // A closed flow's end was reported when it closed.
        return removed.filter { !$0.closed }.map { FlowEvent(kind: .end(.idle), timestamp: now, direction: .fromPod, flow: $0) }
    }

    func isIdle(_ flow: FlowRecord, now: UInt64) -> Bool {
        // A packet after `now` was read may stamp a later time: not idle.
        let idle = now > flow.lastSeen ? now - flow.lastSeen : 0
        return idle > idleTimeout || (flow.closed && idle > closedTimeout)
    }
}
