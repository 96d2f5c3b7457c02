import Foundation
import Hummingbird
import HummingbirdTesting
@testable import PodwallAgent
import PodwallCapture
import PodwallCore
@testable import PodwallDetection
@testable import PodwallKernel
import PodwallTestSupport
import Testing
import Yams

/// docs/api/openapi.yaml is the API's contract: the routes the router
/// registers are exactly the documented operations, the documented ones
/// that need the bearer token are exactly those behind it, and what the
/// response types encode has every required key, no undocumented one and
/// the documented JSON types.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct APIContractTests {
    let document: Node
    let state: APIState

    init() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/api/openapi.yaml")
        document = try #require(try Yams.compose(yaml: String(contentsOf: path, encoding: .utf8)))
        LibbpfLog.capture(echo: false)
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 1024))
        state = APIState(datapath: datapath, metrics: AgentMetrics(), alerts: AlertLog(), captures: nil, token: "contract")
    }

    /// "GET /v1/blocklist/{prefix}" for every documented operation.
    var documentedRoutes: Set<String> {
        var routes: Set<String> = []
        for (path, item) in document["paths"]?.mapping ?? [:] {
            for (method, _) in item.mapping ?? [:] { routes.insert("\(method.string!.uppercased()) \(path.string!)") }
        }
        return routes
    }

    @Test func theRoutersRoutesAreTheDocumentedOnes() {
        for local in [false, true] {
            let registered = Set(APIServer.router(state, local: local).routes.map { "\($0.method) \($0.path)" })
            let (undocumented, unserved) = (
                registered.subtracting(documentedRoutes).sorted(), documentedRoutes.subtracting(registered).sorted()
            )
            #expect(registered == documentedRoutes, "local \(local): undocumented \(undocumented), not served \(unserved)")
        }
    }

    /// Without the token, the operations documented with bearerAuth answer
    /// 401 (and nothing else does); path parameters are ones no handler takes.
    @Test func theTokenGuardsExactlyTheDocumentedOperations() async throws {
        let parameters = ["{prefix}": "banana", "{name}": "x", "{interface}": "no-such-if0", "{id}": "x1"]
        var operations: [(method: HTTPRequest.Method, uri: String, guarded: Bool)] = []
        for (path, item) in document["paths"]?.mapping ?? [:] {
            for (method, operation) in item.mapping ?? [:] {
                let guarded = operation["security"]?.array().contains { $0["bearerAuth"] != nil } ?? false
                let uri = parameters.reduce(path.string!) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
                operations.append((try #require(HTTPRequest.Method(method.string!.uppercased())), uri, guarded))
            }
        }
        try await Application(router: APIServer.router(state, local: false)).test(.router) { [operations] client in
            for (method, uri, guarded) in operations {
                let status = try await client.execute(uri: uri, method: method) { $0.status }
                #expect((status == .unauthorized) == guarded, "\(method) \(uri): \(status)")
            }
        }
    }

    @Test func theResponseTypesEncodeTheDocumentedSchemas() throws {
        let samples = try Self.samples()
        var checked: Set<String> = []
        for (path, item) in document["paths"]?.mapping ?? [:] {
            for (method, operation) in item.mapping ?? [:] {
                for (status, response) in operation["responses"]?.mapping ?? [:] {
                    guard let schema = resolved(response)["content"]?["application/json"]?["schema"] else { continue }
                    let key = "\(method.string!.uppercased()) \(path.string!) \(status.string!)"
                    // Every refusal is an ErrorBody.
                    let bodies = status.string!.hasPrefix("4") ? [try Self.encoded(ErrorBody(error: "why"))] : samples[key]
                    #expect(bodies?.isEmpty == false, "no sample answer for \(key)")
                    for body in bodies ?? [] {
                        let problems = violations(try JSONDecoder().decode(AnyJSON.self, from: body), schema, at: key)
                        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n\(String(decoding: body, as: UTF8.self))")
                    }
                    checked.insert(key)
                }
            }
        }
        #expect(Set(samples.keys).subtracting(checked).isEmpty, "samples for undocumented answers")
    }

    // MARK: - Samples of every documented JSON answer

    static func encoded(_ value: some Encodable) throws -> Data { try APIResponseCoding.encoder.encode(value) }

    static func samples() throws -> [String: [Data]] {
        let now = MonotonicClock.now()
        let flow = FlowRecord(
            key: FlowKey(
                ifindex: 7, proto: .tcp, pod: IPAddress("10.0.0.5")!, podPort: 40000, remote: IPAddress("1.2.3.4")!, remotePort: 443),
            firstSeen: 1, lastSeen: 2, podInitiated: true, fromPod: FlowCounters(packets: 3, bytes: 300),
            toPod: FlowCounters(packets: 2, bytes: 90))
        let directory = NSTemporaryDirectory() + "podwall-api-contract-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return [
            "GET /healthz 200": [
                try encoded(HealthStatus(pinRoot: "/sys/fs/bpf/podwall", writes: true)),
                try encoded(HealthStatus(pinRoot: nil, writes: false))
            ],
            "GET /readyz 200": [try encoded(Readiness.of(ready: true, interfaces: 3))],
            "GET /readyz 503": [try encoded(Readiness.of(ready: false, interfaces: 0))],
            "GET /v1/alerts 200": [
                Data(AlertList(lines: [try AlertJSON.line(sampleAlert()), try AlertJSON.line(sampleProcessAlert())]).json.utf8)
            ],
            "GET /v1/flows 200": [
                try encoded(
                    FlowList(
                        flows: [
                            FlowRow(flow, interface: "veth1", podName: "shop/web", process: sampleProcessAlert().source.process),
                            FlowRow(flow, interface: "if7", podName: nil)
                        ],
                        snapshotAgeMs: 1200)
                )
            ],
            "GET /v1/pods 200": [try encoded(PodList(pods: [PodRow(ifindex: 7, interface: "veth1", podName: nil)]))],
            "GET /v1/blocklist 200": [
                try encoded(
                    BlocklistPage(
                        entries: [
                            BlocklistRow(
                                IPPrefix("203.0.113.0/24")!,
                                Blocklist.Entry(feeds: Blocklist.dynamicBit | 1, expiresNs: now + 5_000_000_000, hits: 4),
                                feeds: ["c2", "dynamic"], nowNs: now),
                            BlocklistRow(
                                IPPrefix("2001:db8::/32")!, Blocklist.Entry(feeds: 1, expiresNs: 0, hits: 0), feeds: ["c2"], nowNs: now)
                        ], count: 3, nextCursor: BlocklistCursor(after: IPPrefix("2001:db8::/32")!).text))
            ],
            "POST /v1/blocklist 201": [try encoded(BlockAdded(prefix: "203.0.113.0/24"))],
            "PUT /v1/feeds/{name} 200": [
                try encoded(FeedReport(name: "c2", entries: 2, skippedLines: 1, added: 2, removed: 0, updated: 0))
            ],
            "GET /v1/quarantine 200": [
                try encoded(
                    QuarantineList(entries: [
                        QuarantineRow(
                            ifindex: 7, interface: "veth1", QuarantineTable.Entry(sinceNs: now - 1, expiresNs: nil, drops: 2), nowNs: now),
                        QuarantineRow(
                            ifindex: 8, interface: "if8", QuarantineTable.Entry(sinceNs: now, expiresNs: now + 9, drops: 0), nowNs: now)
                    ]))
            ],
            "POST /v1/quarantine 201": [try encoded(QuarantineAdded(interface: "veth1", ifindex: 7))],
            "GET /v1/pcaps 200": [try encoded(PcapList(pcaps: try CaptureStore.withOnePcap(in: directory).summaries()))]
        ]
    }

    /// A reverse-shell alert: the process with its exec id, binary and arguments, and a kill.
    static func sampleProcessAlert() -> Alert {
        var process = AlertProcess(pid: 4242, tgid: 4242, uid: 0, comm: "bash", cgroupId: 9, cgroupPath: "/kubepods/x")
        process.execId = "node-1:4242-123"
        process.namespacePid = 7
        process.binary = "/usr/bin/bash"
        process.arguments = ["bash", "-i"]
        process.ancestors = ["sh"]
        let socket = StdioDescriptor.inetSocket(
            .init(proto: .tcp, local: IPAddress("10.0.0.5")!, localPort: 40000, remote: IPAddress("1.2.3.4")!, remotePort: 4444, inode: 1))
        let exec = ExecRecord(
            process: PodwallCore.ProcessIdentity(pid: 4242, namespacePid: 7, parentPid: 4200, cgroupID: 9, startNs: 1),
            timestampNs: 1_800_000_000_000_000_000, comm: "bash", filename: "/usr/bin/bash", arguments: ["bash", "-i"],
            stdio: [socket, socket, socket], killedAtExec: true)
        var alert = Alert(
            kind: .reverseShell, severity: .critical,
            source: AlertSource(address: IPAddress("10.0.0.5")!, ifindex: 7, podName: "shop/web", cgroupId: 9, process: process),
            flows: [],
            evidence: .process(
                ProcessEvidence(kind: .reverseShell, technique: .socketOnStdio, exec: exec, remote: IPAddress("1.2.3.4")!, remotePort: 4444)
            ),
            decidingNs: 1_800_000_000_000_000_000, now: 1_800_000_000_000_000_000)
        alert.actions = [.kill(pid: 4242, atExec: true), .block(remote: IPAddress("1.2.3.4")!, ttlSeconds: 86_400)]
        return alert
    }

    /// An alert with every optional part: interface, pod name, process, flows and responses.
    static func sampleAlert() -> Alert {
        let source = AlertSource(
            address: IPAddress("10.0.0.5")!, ifindex: 7, podName: "shop/web", cgroupId: 9,
            process: AlertProcess(pid: 1, tgid: 1, uid: 0, comm: "curl", cgroupId: 9, cgroupPath: "/kubepods/x"))
        let key = FlowKey(
            ifindex: 7, proto: .tcp, pod: IPAddress("10.0.0.5")!, podPort: 40000, remote: IPAddress("1.2.3.4")!, remotePort: 80)
        var alert = Alert(
            kind: .blocklistHit, severity: .high, source: source, flows: [key],
            evidence: .blocklistHit(
                BlocklistEvidence(
                    matchedPrefix: "1.2.3.4/32", reason: .blocklist, remote: IPAddress("1.2.3.4")!, remotePort: 80, proto: .tcp)),
            decidingNs: 1_800_000_000_000_000_000, now: 1_800_000_000_000_000_000)
        alert.source.interface = "veth1"
        alert.actions = [
            .block(remote: IPAddress("1.2.3.4")!, ttlSeconds: 60), .quarantine(pod: IPAddress("10.0.0.5")!, ifindex: 7, ttlSeconds: 60),
            .capture(id: alert.id)
        ]
        alert.responseLatencyMs = 0.5
        return alert
    }

    // MARK: - A JSON Schema checker for what the document uses

    /// The node `$ref` points to, or the node itself.
    func resolved(_ node: Node) -> Node {
        guard let reference = node["$ref"]?.string else { return node }
        let found = reference.dropFirst(2).split(separator: "/").reduce(document as Node?) { $0?[String($1)] }
        return found.map(resolved) ?? node
    }

    /// Where `value` departs from `schema`: a missing required key, an
    /// undocumented key, a wrong JSON type, a value outside const or enum.
    func violations(_ value: AnyJSON, _ node: Node, at path: String) -> [String] {
        let schema = resolved(node)
        var problems: [String] = []
        let types = schema["type"].map { $0.string.map { [$0] } ?? $0.array().compactMap(\.string) } ?? []
        if !types.isEmpty && !types.contains(where: value.is) { problems.append("\(path): \(value) is not \(types)") }
        if let constant = schema["const"]?.string, value != .string(constant) { problems.append("\(path): \(value) is not \(constant)") }
        if let cases = schema["enum"]?.array().compactMap(\.string), case .string(let text) = value, !cases.contains(text) {
            problems.append("\(path): \(text) is not one of \(cases)")
        }
        switch value {
        case .object(let members):
            for required in schema["required"]?.array().compactMap(\.string) ?? [] where members[required] == nil {
                problems.append("\(path): no \(required)")
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = schema["properties"]?[name] {
                    problems += violations(member, property, at: "\(path).\(name)")
                } else if schema["additionalProperties"]?.bool != true {
                    problems.append("\(path).\(name): not documented")
                }
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { problems += violations(item, itemSchema, at: "\(path)[\(index)]") }
            }
        default:
            break
        }
        return problems
    }
}

/// `podwall flows` reads `/v1/flows` back with a plain decoder: every key,
/// the process's too, comes back, and the row's flow key with it.
@Suite struct FlowListReadBackTests {
    @Test func theCLIReadsBackEachFlowsKeyAndProcess() throws {
        let key = FlowKey(
            ifindex: 7, proto: .udp, pod: IPAddress("fd00::5")!, podPort: 5353, remote: IPAddress("10.0.0.9")!, remotePort: 53)
        let flow = FlowRecord(
            key: key, firstSeen: 1, lastSeen: 2, podInitiated: true, fromPod: FlowCounters(packets: 1, bytes: 60),
            toPod: FlowCounters(packets: 1, bytes: 90))
        let process = try #require(APIContractTests.sampleProcessAlert().source.process)
        let list = FlowList(
            flows: [FlowRow(flow, interface: "veth1", podName: nil, process: process), FlowRow(flow, interface: "veth1", podName: "web")],
            snapshotAgeMs: 5)
        let read = try JSONDecoder().decode(FlowList.self, from: try APIContractTests.encoded(list))
        #expect(read.flows.map(\.key) == [key, key])
        #expect(read.flows.map(\.process) == [process, nil])
        #expect(read.flows.map(\.podName) == [nil, "web"] && read.snapshotAgeMs == 5)
    }

    @Test(arguments: [IPProtocol.icmp, .tcp, .udp, .icmpv6, IPProtocol(rawValue: 132)])
    func aProtocolIsReadBackFromItsName(_ proto: IPProtocol) {
        #expect(IPProtocol(name: proto.description) == proto)
    }
}

/// Any JSON value, kept apart by JSON type (JSONSerialization's NSNumber
/// would let a boolean pass for an integer).
enum AnyJSON: Decodable, Equatable, CustomStringConvertible {
    case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnyJSON].self))
        }
    }

    /// Whether this is of the JSON Schema type named.
    func `is`(_ type: String) -> Bool {
        switch (self, type) {
        case (.null, "null"), (.bool, "boolean"), (.string, "string"), (.array, "array"), (.object, "object"), (.number, "number"): true
        case (.number(let value), "integer"): value.rounded() == value
        default: false
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): value.debugDescription
        case .array(let items): "[\(items.count) items]"
        case .object(let members): "{\(members.keys.sorted().joined(separator: ", "))}"
        }
    }
}
