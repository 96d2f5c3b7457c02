import Foundation
import Hummingbird
import Logging
import NIOCore
import PodwallCapture
import PodwallCore
import PodwallDetection
import PodwallKernel

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
            HealthStatus(pinRoot: state.datapath.object.pinRoot, writes: local || state.token != nil)
        }
        router.get("/readyz") { _, _ in
            let (ready, interfaces) = state.readiness
            return EditedResponse(status: ready ? .ok : .serviceUnavailable, response: Readiness.of(ready: ready, interfaces: interfaces))
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
        router.get("/v1/quarantine") { _, _ in quarantine(state) }
        router.get("/v1/pcaps") { _, _ in PcapList(pcaps: state.captures?.summaries() ?? []) }

        // Writes, and pcap downloads (they hold packet payloads), need the
        // token; on the local socket, the socket's permissions were the check.
        let guarded = router.group()
        if !local { guarded.add(middleware: BearerAuth(token: state.token)) }
        guarded.post("/v1/blocklist") { request, context in try await addBlock(request, context, state) }
        guarded.delete("/v1/blocklist/{prefix}") { _, context in try removeBlock(context.parameters.require("prefix"), state) }
        guarded.put("/v1/feeds/{name}") { request, context in try await loadFeed(context.parameters.require("name"), request, state) }
        guarded.post("/v1/quarantine") { request, context in try await addQuarantine(request, context, state) }
        guarded.delete("/v1/quarantine/{interface}") { _, context in try release(context.parameters.require("interface"), state) }
        guarded.get("/v1/pcaps/{id}") { _, context in try pcap(context.parameters.require("id"), state) }
        return router
    }

    // MARK: - Reads

    static func alerts(_ request: Request, _ state: APIState) throws -> AlertList {
        let query = request.uri.queryParameters
        let kind = query.get("kind")
        if let kind, AlertKind(rawValue: kind) == nil {
            throw HTTPError(.badRequest, message: "kind: one of \(AlertKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var since: UInt64?
        if let text = query.get("since") {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw HTTPError(.badRequest, message: "since: an RFC 3339 time such as 2026-11-25T10:00:00Z")
            }
            // Clamped: a time past 2554 would overflow nanoseconds (and crash the agent).
            let seconds = max(0, date.timeIntervalSince1970)
            since = seconds < Double(UInt64.max / 1_000_000_000) ? UInt64(seconds * 1e9) : .max
        }
        let limit = try limit(query.get("limit"), default: 100, max: 1000)
        return AlertList(lines: state.alerts.query(kind: kind, pod: query.get("pod"), sinceNs: since, limit: limit))
    }

    /// The most flows one answer lists.
    static let maxFlows = 10_000

    static func flows(_ request: Request, _ state: APIState) throws -> FlowList {
        let limit = try limit(request.uri.queryParameters.get("limit"), default: 20, max: maxFlows)
        let (names, opener) = (state.interfaceNames, state.flowOpener)
        let snapshot = state.flows.current()
        let top = snapshot.records
            .sorted { $0.fromPod.bytes + $0.toPod.bytes > $1.fromPod.bytes + $1.toPod.bytes }.prefix(limit)
        return FlowList(
            flows: top.map { flow in
                FlowRow(
                    flow, interface: names[flow.key.ifindex] ?? "if\(flow.key.ifindex)", podName: state.podName(flow.key.ifindex),
                    process: opener(flow))
            }, snapshotAgeMs: snapshot.ageNs(at: MonotonicClock.now()) / 1_000_000)
    }

    /// The pod interfaces podwall is attached to, with the pod behind each.
    static func pods(_ state: APIState) -> PodList {
        PodList(
            pods: state.interfaceNames.sorted { $0.key < $1.key }.map { ifindex, interface in
                PodRow(ifindex: ifindex, interface: interface, podName: state.podName(ifindex))
            })
    }

    static func pcap(_ id: String, _ state: APIState) throws -> Response {
        guard CaptureStore.isValidID(id) else { throw HTTPError(.badRequest, message: "'\(id)' is not a capture id") }
        guard let summary = state.captures?.summary(id), let data = FileManager.default.contents(atPath: summary.file) else {
            throw HTTPError(.notFound, message: "no capture '\(id)'")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/vnd.tcpdump.pcap"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: - Helpers

    /// 0 for a name with a NUL in it: C would read "lo\u{0}x" as "lo".
    static func interfaceIndex(_ name: String) -> UInt32 {
        name.utf8.contains(0) ? 0 : if_nametoindex(name)
    }

    /// The `limit` query parameter: `value` without one, a 400 outside 1...max.
    static func limit(_ text: String?, default value: Int, max: Int) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), (1...max).contains(number) else { throw HTTPError(.badRequest, message: "limit: 1-\(max)") }
        return number
    }
}
