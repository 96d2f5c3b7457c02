import Foundation
import Metrics
import PodwallCapture
import PodwallCore
import PodwallKernel
import Prometheus
import Synchronization

/// The agent's Prometheus metrics (`podwall_` prefix) through swift-metrics.
/// Kernel values are read at scrape time: per-CPU counters become counters
/// (by delta), table sizes become gauges. Interface traffic is what the
/// programs counted in each interface's link entry; the flow count comes
/// from the latest flow-table snapshot. A scrape walks no flow table.
public final class AgentMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let state = Mutex(State())

    private struct State {
        /// Each counter's last kernel value, by name and labels.
        var reported: [String: Int64] = [:]
    }

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    // MARK: - Events as they happen

    func alert(kind: String, detectionLatencyMs: Double) {
        Counter(label: "podwall_alerts_total", dimensions: [("kind", kind)], factory: factory).increment()
        Metrics.Timer(label: "podwall_detection_latency_seconds", factory: factory)
            .recordNanoseconds(Int64(detectionLatencyMs * 1e6))
    }

    /// New flows of a pod past its event budget, reported in a kernel
    /// summary instead of one event each, by the pod's interface index (a
    /// pod's name may be learned later; its alerts carry it).
    func flowsSummarized(ifindex: UInt32, count: UInt64) {
        Counter(label: "podwall_flows_summarized_total", dimensions: [("ifindex", "\(ifindex)")], factory: factory)
            .increment(by: Int64(clamping: count))
    }

    func feedUpdate(feed: String, succeeded: Bool) {
        Counter(
            label: "podwall_feed_updates_total", dimensions: [("feed", feed), ("result", succeeded ? "success" : "failure")],
            factory: factory
        ).increment()
    }

    /// Pod-interface hooks where another TCX program runs before podwall's.
    func tcHooksNotFirst(_ count: Int) {
        gauge("podwall_tc_hooks_not_first", [], Double(count))
    }

    // MARK: - Read at scrape time

    struct Sources {
        let datapath: Datapath
        let flows: FlowSnapshot
        let interfaceNames: [UInt32: String]
        let queueDrops: UInt64
        let captures: CaptureManager.CaptureTotals
        /// The process programs' counters and the process queue's drops (nil: not watching).
        var processes: (counters: ProcessCounters, queueDrops: UInt64, cache: ProcessCacheStatistics)? = nil
    }

    func refresh(_ sources: Sources, now: Date = Date(), monotonicNow: UInt64 = MonotonicClock.now()) {
        let counters = Dictionary(uniqueKeysWithValues: sources.datapath.counters.snapshot().map { ($0.name, $0.value) })
        for (name, value) in counters {
            advance("podwall_kernel_\(name)_total", [], to: value)
        }
        advance("podwall_drops_total", [("reason", "blocklist")], to: counters["drops_blocklist"] ?? 0)
        advance("podwall_drops_total", [("reason", "quarantine")], to: counters["drops_quarantine"] ?? 0)
        advance("podwall_flow_insert_failures_total", [], to: counters["flow_insert_failures"] ?? 0)
        advance("podwall_blocklist_hits_total", [], to: (counters["drops_blocklist"] ?? 0) + (counters["sock_denied"] ?? 0))
        advance("podwall_events_lost_total", [("stage", "kernel_ring_buffer")], to: counters["ringbuf_drops"] ?? 0)
        advance("podwall_events_lost_total", [("stage", "userspace_queue")], to: sources.queueDrops)
        advance("podwall_capture_packets_total", [], to: sources.captures.packets)
        advance("podwall_capture_lost_total", [("reason", "ring_full")], to: sources.captures.lost)
        advance("podwall_capture_lost_total", [("reason", "budget_or_expiry")], to: sources.captures.skipped)
        gauge("podwall_captures_running", [], Double(sources.captures.running))
        if let processes = sources.processes {
            for (name, value) in processes.counters.snapshot() {
                advance("podwall_process_\(name)_total", [], to: value)
            }
            advance("podwall_events_lost_total", [("stage", "process_ring_buffer")], to: processes.counters.ringBufferDrops)
            advance("podwall_events_lost_total", [("stage", "process_queue")], to: processes.queueDrops)
            let cache = processes.cache
            gauge("podwall_process_cache_entries", [("state", "live")], Double(cache.live))
            gauge("podwall_process_cache_entries", [("state", "exited")], Double(cache.exited))
            gauge("podwall_process_cache_bytes", [], Double(cache.estimatedBytes))
            advance("podwall_process_cache_misses_total", [], to: UInt64(cache.misses))
            advance("podwall_process_cache_evictions_total", [], to: UInt64(cache.evictions))
        }

        gauge("podwall_active_flows", [], Double(sources.flows.records.count))
        gauge("podwall_flow_snapshot_age_seconds", [], Double(sources.flows.ageNs(at: monotonicNow)) / 1e9)
        // The compat data path (Linux < 5.12) counts none: no series rather than zeros.
        for (ifindex, link) in sources.datapath.features.linkCounts ? sources.datapath.links.entries() : [:] {
            for direction in FlowDirection.allCases {
                let labels = [("interface", sources.interfaceNames[ifindex] ?? "if\(ifindex)"), ("direction", direction.label)]
                advance("podwall_interface_packets_total", labels, to: link.traffic(direction).packets)
                advance("podwall_interface_bytes_total", labels, to: link.traffic(direction).bytes)
            }
            advance(
                "podwall_interface_events_lost_total", [("interface", sources.interfaceNames[ifindex] ?? "if\(ifindex)")],
                to: link.ringDrops)
        }
        for (_, name, feed) in sources.datapath.blocklist.feeds() {
            gauge("podwall_blocklist_entries", [("feed", name)], Double(feed.entries))
            if feed.updated_ns > 0 {
                gauge("podwall_feed_age_seconds", [("feed", name)], now.timeIntervalSince1970 - Double(feed.updated_ns) / 1e9)
            }
        }
    }

    /// Prometheus text exposition.
    public func render() -> String { registry.emitToString() }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Double) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }

    /// Counters only go up: add what a kernel value grew by since the last scrape.
    private func advance(_ name: String, _ labels: [(String, String)], to value: UInt64) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta: Int64 = state.withLock { state in
            let last = state.reported[key] ?? 0
            let now = Int64(clamping: value)
            state.reported[key] = max(last, now)
            return max(0, now - last)
        }
        // Also at 0: the series exists from the first scrape.
        Counter(label: name, dimensions: labels, factory: factory).increment(by: delta)
    }
}
