import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PodwallCore
import PodwallKernel

/// The CLI's way to a running agent: its local socket (RuntimeFiles), which
/// only root reaches and which needs no token. While an agent runs on the
/// pins, the CLI's blocklist and quarantine writes go through it, so that
/// the agent's own picture of the maps (the blocklist store it diffs feeds
/// and expiries against, the responses it holds) never drifts from the
/// kernel's; without one, the CLI writes the pins under PinWriterLock.
public struct AgentAPIClient: Sendable, CustomStringConvertible {
    public let socketPath: String

    public var description: String { "the agent at \(socketPath)" }

    /// How long the CLI waits for the answer of an agent that accepted its
    /// connection (ListeningProbe says first whether one listens at all): a
    /// busy agent's late answer must not turn a write through it into one
    /// behind its back.
    static let answerTimeout: TimeAmount = .seconds(10)

    /// The agent running on `pinRoot`, if one listens on its socket.
    public static func local(pinRoot: String) async -> AgentAPIClient? {
        let client = AgentAPIClient(socketPath: RuntimeFiles(pinRoot: pinRoot).socketPath)
        guard ListeningProbe.accepts(socket: client.socketPath), let health = await client.read(HealthStatus.self, "/healthz"),
            health.pinRoot == pinRoot
        else { return nil }
        return client
    }

    /// The pods behind the host interfaces the agent watches, as its alerts
    /// name them.
    public func podNames() async -> [UInt32: String] {
        guard let list = await read(PodList.self, "/v1/pods") else { return [:] }
        return Dictionary(list.pods.compactMap { pod in pod.podName.map { (pod.ifindex, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    /// The process that opened each flow of the agent's latest snapshot (as
    /// many as the API lists), as its network alerts name it.
    public func flowProcesses() async -> [FlowKey: AlertProcess] {
        guard let list = await read(FlowList.self, "/v1/flows?limit=\(APIServer.maxFlows)", decoder: JSONDecoder()) else { return [:] }
        return Dictionary(
            list.flows.compactMap { flow in flow.key.flatMap { key in flow.process.map { (key, $0) } } },
            uniquingKeysWith: { first, _ in first })
    }

    /// AsyncHTTPClient's form for a Unix socket: the socket's path as the host.
    private func url(_ path: String) -> String {
        "http+unix://" + Self.escaped(socketPath) + path
    }

    /// An answer of the agent, decoded as the API encodes it (or, for a
    /// body that spells its keys out, as `decoder` reads it).
    private func read<Body: Decodable>(
        _ type: Body.Type, _ path: String, decoder: JSONDecoder = APIResponseCoding.decoder
    ) async -> Body? {
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url(path)), timeout: Self.answerTimeout),
            response.status == .ok, let body = try? await response.body.collect(upTo: 1 << 24)
        else { return nil }
        return try? decoder.decode(Body.self, from: Data(buffer: body))
    }

    /// RFC 3986's unreserved characters.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A write the CLI makes.
    public enum Write: Sendable {
        case block(prefix: String, ttlSeconds: UInt64?)
        case unblock(prefix: String)
        case quarantine(interface: String, ttlSeconds: UInt64?)
        case release(interface: String)
    }

    /// Sends one write; nil when the agent did it, else its refusal.
    public func send(_ write: Write) async throws -> String? {
        // Only what a path segment cannot hold is escaped ("/" of a CIDR): the
        // API takes interface names as they are.
        let segment = Self.escaped
        switch write {
        case .block(let prefix, let ttl):
            return try await send(.POST, "/v1/blocklist", body: APIServer.BlockRequest(prefix: prefix, ttl_seconds: ttl))
        case .unblock(let prefix):
            return try await send(.DELETE, "/v1/blocklist/" + segment(prefix))
        case .quarantine(let interface, let ttl):
            return try await send(.POST, "/v1/quarantine", body: APIServer.QuarantineRequest(interface: interface, ttl_seconds: ttl))
        case .release(let interface):
            return try await send(.DELETE, "/v1/quarantine/" + segment(interface))
        }
    }

    /// Has the agent parse and apply a feed document under its limits: its
    /// report, or its refusal (`file:line: reason` for a bad line).
    public func loadFeed(_ document: FeedLoader.Document, lenient: Bool) async throws -> Result<String, FeedRefusal> {
        var query = "?lenient=\(lenient)&file=" + Self.escaped(document.fileName)
        if let format = document.source.format { query += "&format=\(format.name)" }
        let (refusal, answer) = try await exchange(
            .PUT, "/v1/feeds/" + Self.escaped(document.source.name) + query,
            body: ByteBuffer(bytes: document.bytes), contentType: "text/plain",
            timeout: .seconds(120))
        if let refusal { return .failure(FeedRefusal(description: refusal)) }
        guard let report = try? APIResponseCoding.decoder.decode(FeedReport.self, from: Data(buffer: answer)) else {
            return .failure(FeedRefusal(description: "the agent's answer is not a feed report"))
        }
        var text =
            "feed \(document.source.name): \(report.entries) entries (+\(report.added) -\(report.removed) ~\(report.updated)), "
            + "through \(self)"
        if report.skippedLines > 0 { text += "; \(report.skippedLines) bad lines skipped (--lenient)" }
        return .success(text)
    }

    public struct FeedRefusal: Error, CustomStringConvertible {
        public let description: String
    }

    static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private func send(_ method: HTTPMethod, _ path: String, body: (any Encodable)? = nil) async throws -> String? {
        let bytes = try body.map { ByteBuffer(bytes: try JSONEncoder().encode($0)) }
        return try await exchange(method, path, body: bytes, contentType: "application/json").refusal
    }

    /// One request: the agent's refusal (nil when it did it) and its answer.
    private func exchange(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer?, contentType: String,
        timeout: TimeAmount = .seconds(10)
    ) async throws -> (refusal: String?, answer: ByteBuffer) {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(body)
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let answer = try await response.body.collect(upTo: 1 << 20)
        guard !(200..<300).contains(response.status.code) else { return (nil, answer) }
        let error = try? APIResponseCoding.decoder.decode(ErrorBody.self, from: Data(buffer: answer)).error
        return (error ?? "HTTP \(response.status.code)", answer)
    }
}
