import PodwallCore
import PodwallKernel

/// Ends idle flows. The kernel cannot see silence, so the agent walks the
/// LRU flow map (as Cilium's CT garbage collector does), reports each idle
/// flow as an `.end(.idle)` event and deletes it.
struct IdleSweeper {
    let flows: FlowTable
    let idleTimeout: UInt64
    let closedTimeout: UInt64

    func sweep(now: UInt64) -> [FlowEvent] {
        let removed = flows.removeAll { flow in
            let idle = now &- flow.lastSeen
            return idle > idleTimeout || (flow.closed && idle > closedTimeout)
        }
        // A closed flow's end was reported when it closed.
        return removed.filter { !$0.closed }.map { FlowEvent(kind: .end(.idle), timestamp: now, direction: .fromPod, flow: $0) }
    }
}
