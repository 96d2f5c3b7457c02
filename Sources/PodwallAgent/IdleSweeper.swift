import PodwallABI
import PodwallCore
import PodwallKernel

/// Ends idle flows. The kernel cannot see silence, so the agent walks the
/// LRU flow map (as Cilium's CT garbage collector does), reports each idle
/// flow as an `.end(.idle)` event and deletes it.
struct IdleSweeper {
    let flows: BPFMap<pw_flow_key, pw_flow_value>
    let idleTimeout: UInt64
    let closedTimeout: UInt64

    func sweep(now: UInt64) -> [FlowEvent] {
        var ended: [FlowEvent] = []
        for (key, value) in flows.entries() {
            let idle = now &- value.last_seen_ns
            let closed = value.flags & UInt32(PW_FLOW_END_SENT.rawValue) != 0
            guard idle > idleTimeout || (closed && idle > closedTimeout) else { continue }
            guard (try? flows.delete(key)) == true else { continue }
            if !closed {
                ended.append(FlowEvent(kind: .end(.idle), timestamp: now, direction: .fromPod, flow: FlowRecord(key, value)))
            }
        }
        return ended
    }
}
