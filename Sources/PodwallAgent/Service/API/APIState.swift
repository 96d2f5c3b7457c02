import Foundation
import Logging
import PodwallCapture
import PodwallCore
import PodwallKernel
import Synchronization

/// What the HTTP API reads and changes; the agent fills it as it runs.
public final class APIState: Sendable {
    let datapath: Datapath
    let metrics: AgentMetrics
    let alerts: AlertLog
    let captures: CaptureStore?
    /// The bearer token for writes; nil refuses every write.
    let token: String?
    /// The limits feeds are held to apply to entries added through the API too.
    let feedPolicy: FeedPolicy
    /// The sorted prefixes `GET /v1/blocklist` pages through, kept between requests.
    let blocklistListing = BlocklistListing()
    /// The agent's latest flow-table snapshot (/v1/flows reads no table itself).
    let flows: FlowSnapshots
    private let state = Mutex(State())

    /// What the agent fills in as it runs; callbacks are called outside the lock.
    private struct State {
        var ready = false
        var attached = 0
        var names: [UInt32: String] = [:]
        var refreshMetrics: @Sendable () -> Void = {}
        var releasedQuarantine: @Sendable (UInt32) -> Void = { _ in }
        /// The pod behind a host interface, as the agent names it in alerts.
        var podNames: @Sendable (UInt32) -> String? = { _ in nil }
        /// The process that opened a flow, as the agent names it in network alerts.
        var flowOpeners: @Sendable (FlowRecord) -> AlertProcess? = { _ in nil }
    }

    init(
        datapath: Datapath, metrics: AgentMetrics, alerts: AlertLog, captures: CaptureStore?, token: String?,
        feedPolicy: FeedPolicy = FeedPolicy(), flows: FlowSnapshots? = nil
    ) {
        self.flows = flows ?? FlowSnapshots(table: datapath.flows)
        self.datapath = datapath
        self.metrics = metrics
        self.alerts = alerts
        self.captures = captures
        self.token = token
        self.feedPolicy = feedPolicy
    }

    func markReady(interfaces: Int) {
        state.withLock {
            $0.ready = true; $0.attached = interfaces
        }
    }
    var readiness: (Bool, Int) { state.withLock { ($0.ready, $0.attached) } }
    func interfaceAttached(_ ifindex: UInt32, name: String?) { state.withLock { $0.names[ifindex] = name } }
    var interfaceNames: [UInt32: String] { state.withLock { $0.names } }
    func onScrape(_ refresh: @escaping @Sendable () -> Void) { state.withLock { $0.refreshMetrics = refresh } }
    /// Told of every quarantine an operator releases (detection judges the pod afresh).
    func onQuarantineRelease(_ released: @escaping @Sendable (UInt32) -> Void) { state.withLock { $0.releasedQuarantine = released } }
    func quarantineReleased(_ ifindex: UInt32) { state.withLock { $0.releasedQuarantine }(ifindex) }
    func onPodName(_ name: @escaping @Sendable (UInt32) -> String?) { state.withLock { $0.podNames = name } }
    func podName(_ ifindex: UInt32) -> String? { state.withLock { $0.podNames }(ifindex) }
    func onFlowOpener(_ opener: @escaping @Sendable (FlowRecord) -> AlertProcess?) { state.withLock { $0.flowOpeners = opener } }
    /// The way to a flow's process: read once per answer, not once per flow.
    var flowOpener: @Sendable (FlowRecord) -> AlertProcess? { state.withLock { $0.flowOpeners } }
    func scrape() -> String {
        state.withLock { $0.refreshMetrics }()
        return metrics.render()
    }

    /// Reads the token file; a missing or empty file means writes are refused.
    static func readToken(_ path: String?, logger: Logger) -> String? {
        guard let path else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            case let token = text.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else {
            logger.warning("no API token in \(path): the API's write endpoints refuse every request")
            return nil
        }
        return token
    }
}
