import Foundation
import Hummingbird
import Logging
import NIOCore
import PodwallCapture
import PodwallCore
import PodwallDetection
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

/// The agent's HTTP API (see docs/api/openapi.yaml).
enum APIServer {
    static func application(_ state: APIState, address: APIAddress, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(state, local: false),
            configuration: .init(
                address: .hostname(address.host, port: address.port),
                serverName: "podwall"), logger: logger)
    }

    /// The same API on a Unix socket only root can reach (RuntimeFiles):
    /// writes need no token there. The agent holds the pins' writer lock,
    /// so a socket file left at `path` is a dead agent's.
    static func application(_ state: APIState, socket path: String, logger: Logger) -> some ApplicationProtocol {
        unlink(path)
        return Application(
            router: router(state, local: true),
            configuration: .init(
                address: .unixDomainSocket(path: path),
                serverName: "podwall"), logger: logger)
    }

    /// `local`: the routes of the root-only socket, where writes need no token.
    static func router(_ state: APIState, local: Bool) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrors())
        // The pins and whether writes are taken: the CLI sends its writes here
        // while this agent runs on the pins it was asked to change.
        router.get("/healthz") { _, _ in
            json(
                .ok,
                [
                    "status": "ok", "pin_root": state.datapath.object.pinRoot.map { $0 as Any } ?? NSNull(),
                    "writes": local || state.token != nil
                ])
        }
        router.get("/readyz") { _, _ in
            let (ready, interfaces) = state.readiness
            return ready ? json(.ok, ["status": "ready", "interfaces": interfaces]) : json(.serviceUnavailable, ["status": "starting"])
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: state.scrape())))
        }
        router.get("/v1/alerts") { request, _ in try alerts(request, state) }
        router.get("/v1/flows") { request, _ in try flows(request, state) }
        router.get("/v1/pods") { _, _ in pods(state) }
        router.get("/v1/blocklist") { request, _ in try blocklist(request, state) }
        router.post("/v1/blocklist") { request, context in
            try await authorized(request, state, local: local) { try await addBlock(request, context, state) }
        }
        router.delete("/v1/blocklist/:prefix") { request, context in
            try await authorized(request, state, local: local) { try removeBlock(context.parameters.require("prefix"), state) }
        }
        router.put("/v1/feeds/:name") { request, context in
            try await authorized(request, state, local: local) { try await loadFeed(context.parameters.require("name"), request, state) }
        }
        router.get("/v1/quarantine") { _, _ in quarantine(state) }
        router.post("/v1/quarantine") { request, context in
            try await authorized(request, state, local: local) { try await addQuarantine(request, context, state) }
        }
        router.delete("/v1/quarantine/:interface") { request, context in
            try await authorized(request, state, local: local) { try release(context.parameters.require("interface"), state) }
        }
        router.get("/v1/pcaps") { _, _ in
            let summaries = state.captures?.summaries() ?? []
            return json(.ok, ["pcaps": summaries.map { try? JSONSerialization.jsonObject(with: $0.jsonData()) }.compactMap { $0 }])
        }
        router.get("/v1/pcaps/:id") { request, context in
            try await authorized(request, state, local: local) { try pcap(context.parameters.require("id"), state) }
        }
        return router
    }

    // MARK: - Handlers

    static func alerts(_ request: Request, _ state: APIState) throws -> Response {
        let query = request.uri.queryParameters
        let kind = query.get("kind")
        if let kind, AlertKind(rawValue: kind) == nil {
            return error(.badRequest, "kind: one of \(AlertKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var since: UInt64?
        if let text = query.get("since") {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                return error(.badRequest, "since: an RFC 3339 time such as 2026-11-25T10:00:00Z")
            }
            // Clamped: a time past 2554 would overflow nanoseconds (and crash the agent).
            let seconds = max(0, date.timeIntervalSince1970)
            since = seconds < Double(UInt64.max / 1_000_000_000) ? UInt64(seconds * 1e9) : .max
        }
        guard let limit = try limit(query.get("limit"), default: 100, max: 1000) else { return error(.badRequest, "limit: 1-1000") }
        let lines = state.alerts.query(kind: kind, pod: query.get("pod"), sinceNs: since, limit: limit)
        return raw(.ok, "{\"alerts\":[" + lines.joined(separator: ",") + "]}")
    }

    static func flows(_ request: Request, _ state: APIState) throws -> Response {
        guard let limit = try limit(request.uri.queryParameters.get("limit"), default: 20, max: 10_000) else {
            return error(.badRequest, "limit: 1-10000")
        }
        let names = state.interfaceNames
        let snapshot = state.flows.current()
        let top = snapshot.records
            .sorted { $0.fromPod.bytes + $0.toPod.bytes > $1.fromPod.bytes + $1.toPod.bytes }.prefix(limit)
        let rows: [[String: Any]] = top.map { flow in
            [
                "interface": names[flow.key.ifindex] ?? "if\(flow.key.ifindex)", "pod_name": state.podName(flow.key.ifindex) ?? NSNull(),
                "proto": flow.key.proto.description,
                "pod": flow.key.pod.description, "pod_port": Int(flow.key.podPort),
                "remote": flow.key.remote.description, "remote_port": Int(flow.key.remotePort),
                "bytes_from_pod": flow.fromPod.bytes, "bytes_to_pod": flow.toPod.bytes,
                "packets_from_pod": flow.fromPod.packets, "packets_to_pod": flow.toPod.packets
            ]
        }
        return json(.ok, ["flows": rows, "snapshot_age_ms": snapshot.ageNs(at: MonotonicClock.now()) / 1_000_000])
    }

    /// The pod interfaces podwall is attached to, with the pod behind each.
    static func pods(_ state: APIState) -> Response {
        let rows: [[String: Any]] = state.interfaceNames.sorted { $0.key < $1.key }.map { ifindex, interface in
            ["ifindex": ifindex, "interface": interface, "pod_name": state.podName(ifindex) ?? NSNull()]
        }
        return json(.ok, ["pods": rows])
    }

    static func blocklist(_ request: Request, _ state: APIState) throws -> Response {
        guard let limit = try limit(request.uri.queryParameters.get("limit"), default: 1000, max: 100_000) else {
            return error(.badRequest, "limit: 1-100000")
        }
        let blocklist = state.datapath.blocklist
        let all = blocklist.entries()
        let now = MonotonicClock.now()
        let rows: [[String: Any]] = all.sorted { $0.key < $1.key }.prefix(limit).map { prefix, entry in
            var row: [String: Any] = [
                "prefix": prefix.description, "feeds": blocklist.feedNames(entry.feeds),
                "dynamic": entry.isDynamic, "hits": entry.hits
            ]
            row["expires_in_seconds"] = entry.expiresNs == 0 ? NSNull() : Int((entry.expiresNs &- now) / 1_000_000_000)
            return row
        }
        return json(.ok, ["entries": rows, "count": all.count])
    }

    /// At most a year: a TTL turned into nanoseconds must not overflow (the API fuzzer found that crash).
    static let maxTTLSeconds: UInt64 = 365 * 86400

    /// No TTL (never expires), or 1 second to a year.
    static func validTTL(_ seconds: UInt64?) -> Bool {
        seconds.map { $0 > 0 && $0 <= maxTTLSeconds } ?? true
    }

    struct BlockRequest: StrictJSONBody {
        let prefix: String
        let ttl_seconds: UInt64?
        enum CodingKeys: String, CodingKey, CaseIterable { case prefix, ttl_seconds }
        static let example = #"{"prefix": "203.0.113.0/24", "ttl_seconds": 3600}"#
    }

    static func addBlock(_ request: Request, _ context: BasicRequestContext, _ state: APIState) async throws -> Response {
        let body = try await BlockRequest.decode(request, context)
        guard let prefix = IPPrefix(body.prefix) else { return error(.badRequest, "prefix: '\(body.prefix)' is not an address or CIDR") }
        if let refusal = state.feedPolicy.refusal(of: prefix, token: body.prefix) { return error(.badRequest, "prefix: \(refusal)") }
        guard validTTL(body.ttl_seconds) else { return error(.badRequest, "ttl_seconds: 1 to \(maxTTLSeconds)") }
        let expires = body.ttl_seconds.map { MonotonicClock.now() + $0 * 1_000_000_000 } ?? 0
        try state.datapath.blocklist.addDynamic(prefix, expiresNs: expires)
        return json(.created, ["prefix": prefix.description])
    }

    static func removeBlock(_ text: String, _ state: APIState) throws -> Response {
        let decoded = text.removingPercentEncoding ?? text
        guard let prefix = IPPrefix(decoded) else { return error(.badRequest, "'\(decoded)' is not an address or CIDR") }
        guard try state.datapath.blocklist.removeDynamic(prefix) != nil else {
            return error(.notFound, "\(prefix) is not listed by hand or by detection")
        }
        return Response(status: .noContent)
    }

    static func quarantine(_ state: APIState) -> Response {
        let names = state.interfaceNames
        let now = MonotonicClock.now()
        let rows: [[String: Any]] = state.datapath.quarantine.entries().sorted { $0.key < $1.key }.map { ifindex, value in
            [
                "interface": names[ifindex] ?? "if\(ifindex)", "ifindex": ifindex,
                "since_seconds": Int((now &- value.sinceNs) / 1_000_000_000),
                "expires_in_seconds": value.expiresNs.map { Int(($0 &- now) / 1_000_000_000) as Any } ?? NSNull(),
                "drops": value.drops
            ]
        }
        return json(.ok, ["entries": rows])
    }

    struct QuarantineRequest: StrictJSONBody {
        let interface: String
        let ttl_seconds: UInt64?
        enum CodingKeys: String, CodingKey, CaseIterable { case interface, ttl_seconds }
        static let example = #"{"interface": "veth1a2b3c", "ttl_seconds": 600}"#
    }

    static func addQuarantine(_ request: Request, _ context: BasicRequestContext, _ state: APIState) async throws -> Response {
        let body = try await QuarantineRequest.decode(request, context)
        let ifindex = interfaceIndex(body.interface)
        guard ifindex != 0 else { return error(.badRequest, "interface: no interface '\(body.interface)' on this node") }
        // Bounded as for blocks: a huge TTL would overflow the expiry (and crash the agent).
        guard validTTL(body.ttl_seconds) else { return error(.badRequest, "ttl_seconds: 1 to \(maxTTLSeconds)") }
        try state.datapath.quarantine.quarantine(ifindex, since: MonotonicClock.now(), for: body.ttl_seconds.map { $0 * 1_000_000_000 })
        return json(.created, ["interface": body.interface, "ifindex": ifindex])
    }

    static func release(_ interface: String, _ state: APIState) throws -> Response {
        let ifindex = interfaceIndex(interface)
        guard ifindex != 0 else { return error(.badRequest, "no interface '\(interface)' on this node") }
        guard try state.datapath.quarantine.release(ifindex) else { return error(.notFound, "\(interface) is not quarantined") }
        state.quarantineReleased(ifindex)
        return Response(status: .noContent)
    }

    static func pcap(_ id: String, _ state: APIState) throws -> Response {
        guard CaptureStore.isValidID(id) else { return error(.badRequest, "'\(id)' is not a capture id") }
        guard let summary = state.captures?.summary(id), let data = FileManager.default.contents(atPath: summary.file) else {
            return error(.notFound, "no capture '\(id)'")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/vnd.tcpdump.pcap"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: - Helpers

    /// Writes (and pcap downloads) need the bearer token; nothing runs without it.
    /// On the local socket, the socket's permissions were the check.
    static func authorized(
        _ request: Request, _ state: APIState, local: Bool,
        _ body: () async throws -> Response
    ) async throws -> Response {
        if !local {
            guard let token = state.token else {
                return error(.unauthorized, "writes are disabled: no API token configured (api.token_file)")
            }
            let header = request.headers[.authorization] ?? ""
            guard header.hasPrefix("Bearer "), constantTimeEqual(Array(header.dropFirst(7).utf8), Array(token.utf8)) else {
                return error(.unauthorized, "missing or wrong bearer token")
            }
        }
        do {
            return try await body()
        } catch let failure as KernelError {
            return error(.internalServerError, failure.description)
        }
    }

    /// 0 for a name with a NUL in it: C would read "lo\u{0}x" as "lo".
    static func interfaceIndex(_ name: String) -> UInt32 {
        name.utf8.contains(0) ? 0 : if_nametoindex(name)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func limit(_ text: String?, default value: Int, max: Int) throws -> Int? {
        guard let text else { return value }
        guard let number = Int(text), (1...max).contains(number) else { return nil }
        return number
    }

    static func json(_ status: HTTPResponse.Status, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return raw(status, String(decoding: data, as: UTF8.self))
    }

    static func raw(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, ["error": message])
    }

    /// What the framework answers by itself (no such route, no such method)
    /// gets the same `{"error": ...}` body as the API's own refusals.
    struct JSONErrors: RouterMiddleware {
        func handle(
            _ request: Request, context: BasicRequestContext,
            next: (Request, BasicRequestContext) async throws -> Response
        ) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let failure as any HTTPResponseError {
                return error(failure.status, (failure as? HTTPError)?.body ?? failure.status.reasonPhrase)
            }
        }
    }
}
