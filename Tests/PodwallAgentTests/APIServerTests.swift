import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import PodwallAgent
import PodwallCapture
import PodwallCore
@testable import PodwallDetection
import PodwallKernel
import PodwallTestSupport
import Testing

/// Every endpoint of the HTTP API against real (private, unpinned) BPF maps.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct APIServerTests {
    static let token = "s3cret-token"
    let state: APIState
    let app: Application<RouterResponder<BasicRequestContext>>

    init() throws {
        LibbpfLog.capture(echo: false)
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096))
        state = APIState(datapath: datapath, metrics: AgentMetrics(), alerts: AlertLog(), captures: nil, token: Self.token)
        let metrics = state.metrics
        state.onScrape { [state] in
            metrics.refresh(
                .init(datapath: datapath, flows: datapath.flows.snapshot(), interfaceNames: [:], queueDrops: 3, captures: .init()))
            _ = state
        }
        app = Application(router: APIServer.router(state, local: false))
    }

    static let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]

    func body(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
    }

    @Test func healthAndReadiness() async throws {
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            state.markReady(interfaces: 3)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok && body(response)["interfaces"] as? Int == 3)
            }
        }
    }

    @Test func metricsAreValidPrometheusText() async throws {
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let sample = try Regex(#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? [-+]?([0-9.eE+-]+|Inf|NaN)$"#)
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    #expect(line.wholeMatch(of: sample) != nil, "not a Prometheus sample: \(line)")
                }
                for name in [
                    "podwall_active_flows", "podwall_drops_total{reason=\"blocklist\"}", "podwall_kernel_packets_total",
                    "podwall_events_lost_total{stage=\"userspace_queue\"} 3", "podwall_flow_insert_failures_total"
                ] {
                    #expect(text.contains(name), "\(name) in\n\(text)")
                }
            }
        }
    }

    @Test func blocklistWritesNeedTheTokenAndBadInputChangesNothing() async throws {
        let blocklist = state.datapath.blocklist
        let add = ByteBuffer(string: #"{"prefix": "203.0.113.0/24", "ttl_seconds": 600}"#)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/blocklist", method: .post, body: add) { response in
                #expect(response.status == .unauthorized && body(response)["error"] != nil)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            try await client.execute(uri: "/v1/blocklist", method: .post, headers: [.authorization: "Bearer wrong"], body: add) {
                #expect($0.status == .unauthorized)
            }
            // A /0 (or anything broader than the feed policy allows) would cut every pod off.
            for bad in [
                #"{"prefix": "203.0.113.0/33"}"#, #"{"prefix": 5}"#, "not json", #"{"prefix": "1.2.3.4", "ttl_seconds": 0}"#,
                #"{"prefix": "0.0.0.0/0"}"#, #"{"prefix": "::/0"}"#, #"{"prefix": "10.0.0.0/7"}"#
            ] {
                try await client.execute(uri: "/v1/blocklist", method: .post, headers: Self.auth, body: ByteBuffer(string: bad)) {
                    response in
                    #expect(response.status == .badRequest, "\(bad)")
                    #expect(body(response)["error"] is String)
                }
            }
            #expect(blocklist.entries().isEmpty, "nothing changed by refused requests")
            try await client.execute(uri: "/v1/blocklist", method: .post, headers: Self.auth, body: add) { #expect($0.status == .created) }
            #expect(try blocklist.match(IPAddress("203.0.113.9")!) != nil)
            try await client.execute(uri: "/v1/blocklist", method: .get) { response in
                let entries = body(response)["entries"] as? [[String: Any]]
                #expect(entries?.first?["prefix"] as? String == "203.0.113.0/24" && entries?.first?["dynamic"] as? Bool == true)
                #expect((entries?.first?["expires_in_seconds"] as? Int ?? 0) > 590)
            }
            try await client.execute(uri: "/v1/blocklist/203.0.113.0%2F24", method: .delete) { #expect($0.status == .unauthorized) }
            #expect(try blocklist.match(IPAddress("203.0.113.9")!) != nil)
            try await client.execute(uri: "/v1/blocklist/203.0.113.0%2F24", method: .delete, headers: Self.auth) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/v1/blocklist/203.0.113.0%2F24", method: .delete, headers: Self.auth) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/blocklist/banana", method: .delete, headers: Self.auth) { #expect($0.status == .badRequest) }
            #expect(blocklist.entries().isEmpty)
        }
    }

    /// Pages in prefix order, each starting after the last of the one
    /// before whatever changed in between, over prefixes sorted once per
    /// change of the lists rather than once per request.
    @Test func theBlocklistIsListedAPageAtATimeFollowingCursors() async throws {
        let blocklist = state.datapath.blocklist
        let listed = ["198.51.100.0/24", "203.0.113.7", "203.0.113.9", "2001:db8::/48", "2001:db8::1"].map { IPPrefix($0)! }
        for prefix in listed.shuffled() { try blocklist.addDynamic(prefix, expiresNs: 0) }
        defer { for prefix in listed { _ = try? blocklist.removeDynamic(prefix) } }
        try await app.test(.router) { client in
            func page(_ query: String) async throws -> (prefixes: [String], count: Int?, next: String?) {
                try await client.execute(uri: "/v1/blocklist" + query, method: .get) { response in
                    #expect(response.status == .ok, "\(query)")
                    let page = body(response)
                    let entries = page["entries"] as? [[String: Any]] ?? []
                    return (entries.compactMap { $0["prefix"] as? String }, page["count"] as? Int, page["next_cursor"] as? String)
                }
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let next = try await page("?limit=2" + (cursor.map { "&cursor=" + $0 } ?? ""))
                #expect(next.count == listed.count && next.prefixes.count <= 2)
                seen += next.prefixes
                cursor = next.next
            } while cursor != nil
            #expect(seen == listed.sorted().map(\.description))
            #expect(try await page("").next == nil, "one page holds them all by default")

            // A removal between two pages hides nothing that stays.
            let first = try await page("?limit=2")
            _ = try blocklist.removeDynamic(listed[2])
            #expect(try await page("?limit=2&cursor=\(first.next ?? "")").prefixes == ["2001:db8::/48", "2001:db8::1"])

            for bad in ["?cursor=", "?cursor=****", "?cursor=bm90LWEtcHJlZml4", "?limit=0", "?limit=100001"] {
                try await client.execute(uri: "/v1/blocklist" + bad, method: .get) { response in
                    #expect(response.status == .badRequest && body(response)["error"] is String, "\(bad)")
                }
            }
        }
        let listing = state.blocklistListing
        let storage = { try listing.prefixes(state.datapath).withUnsafeBufferPointer { $0.baseAddress } }
        #expect(try storage() == storage(), "sorted once while nothing changes")
        let before = try listing.prefixes(state.datapath)
        try blocklist.addDynamic(IPPrefix("192.0.2.1")!, expiresNs: 0)
        #expect(try listing.prefixes(state.datapath) == (before + [IPPrefix("192.0.2.1")!]).sorted(), "sorted again after a change")
        _ = try blocklist.removeDynamic(IPPrefix("192.0.2.1")!)
    }

    /// A typo must not become a permanent block: an unknown key is refused
    /// with its name, and nothing changes.
    @Test func unknownKeysAreRefusedByNameAndChangeNothing() async throws {
        let requests = [
            ("/v1/blocklist", #"{"prefix": "203.0.113.7", "ttl": 3600}"#, "'ttl'"),
            ("/v1/quarantine", #"{"interface": "lo", "ttl_second": 60}"#, "'ttl_second'"),
            ("/v1/blocklist", #"{"prefix": "203.0.113.7", "ttl_seconds": 60, "feed": "x"}"#, "'feed'")
        ]
        try await app.test(.router) { client in
            for (uri, bad, key) in requests {
                try await client.execute(uri: uri, method: .post, headers: Self.auth, body: ByteBuffer(string: bad)) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                    let message = body(response)["error"] as? String ?? ""
                    #expect(message.contains(key), "\(message)")
                }
            }
        }
        #expect(state.datapath.blocklist.entries().isEmpty)
        #expect(state.datapath.quarantine.entries().isEmpty)
    }

    /// The root-only socket's routes take writes with no token; TCP's do not.
    @Test func theLocalSocketsRoutesTakeWritesWithoutAToken() async throws {
        let untokened = APIState(
            datapath: state.datapath, metrics: AgentMetrics(), alerts: AlertLog(), captures: nil, token: nil,
            feedPolicy: FeedPolicy())
        let post = { (local: Bool) async throws -> HTTPResponse.Status in
            try await Application(router: APIServer.router(untokened, local: local)).test(.router) { client in
                try await client.execute(uri: "/v1/blocklist", method: .post, body: ByteBuffer(string: #"{"prefix": "198.51.100.7"}"#)) {
                    $0.status
                }
            }
        }
        #expect(try await post(false) == .unauthorized)
        #expect(try await post(true) == .created)
        for prefix in state.datapath.blocklist.entries().keys { _ = try state.datapath.blocklist.removeDynamic(prefix) }
    }

    @Test func theAgentsFeedLimitsApplyToTheAPI() async throws {
        let strict = APIState(
            datapath: state.datapath, metrics: AgentMetrics(), alerts: AlertLog(), captures: nil, token: Self.token,
            feedPolicy: FeedPolicy(minimumIPv4PrefixLength: 16))
        let broad = APIState(
            datapath: state.datapath, metrics: AgentMetrics(), alerts: AlertLog(), captures: nil, token: Self.token,
            feedPolicy: FeedPolicy(allowBroad: true))
        let post = { (state: APIState, prefix: String) async throws -> HTTPResponse.Status in
            try await Application(router: APIServer.router(state, local: false)).test(.router) { client in
                try await client.execute(
                    uri: "/v1/blocklist", method: .post, headers: Self.auth,
                    body: ByteBuffer(string: #"{"prefix": "\#(prefix)", "ttl_seconds": 60}"#)
                ) { $0.status }
            }
        }
        #expect(try await post(strict, "10.0.0.0/12") == .badRequest, "feeds.min_prefix_v4: 16 refuses a /12")
        #expect(try await post(strict, "10.0.0.0/16") == .created)
        #expect(try await post(broad, "0.0.0.0/0") == .created, "feeds.allow_broad accepts a /0")
        for prefix in state.datapath.blocklist.entries().keys { _ = try state.datapath.blocklist.removeDynamic(prefix) }
    }

    @Test func quarantineByInterface() async throws {
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/quarantine", method: .post, headers: Self.auth,
                body: ByteBuffer(string: #"{"interface": "no-such-if0"}"#)
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/v1/quarantine", method: .post, headers: Self.auth,
                body: ByteBuffer(string: #"{"interface": "lo", "ttl_seconds": 60}"#)
            ) { #expect($0.status == .created) }
            try await client.execute(uri: "/v1/quarantine", method: .get) { response in
                let entries = body(response)["entries"] as? [[String: Any]]
                #expect(entries?.count == 1 && entries?.first?["ifindex"] as? Int == 1)
            }
            try await client.execute(uri: "/v1/quarantine/lo", method: .delete, headers: Self.auth) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/v1/quarantine/lo", method: .delete, headers: Self.auth) { #expect($0.status == .notFound) }
        }
        #expect(state.datapath.quarantine.entries().isEmpty)
    }

    @Test func alertsFilterByKindPodAndTime() async throws {
        for (kind, source, time) in [(AlertKind.portScan, "10.0.0.5", 1_800_000_000), (.exfiltration, "10.0.0.6", 1_800_000_100)] {
            let alert = Alert(
                kind: kind, severity: .high, source: AlertSource(address: IPAddress(source)!, ifindex: 4),
                flows: [],
                evidence: .blocklistHit(
                    BlocklistEvidence(
                        matchedPrefix: "1.2.3.4/32", reason: .blocklist, remote: IPAddress("1.2.3.4")!, remotePort: 80, proto: .tcp)),
                decidingNs: UInt64(time) * 1_000_000_000, now: UInt64(time) * 1_000_000_000)
            state.alerts.append(alert, json: try AlertJSON.line(alert))
        }
        try await app.test(.router) { client in
            func count(_ query: String) async throws -> Int? {
                try await client.execute(uri: "/v1/alerts" + query, method: .get) { (body($0)["alerts"] as? [Any])?.count }
            }
            #expect(try await count("") == 2)
            #expect(try await count("?kind=port_scan") == 1)
            #expect(try await count("?pod=10.0.0.6") == 1)
            #expect(try await count("?since=2027-01-15T08:01:00Z") == 1)
            #expect(try await count("?limit=1") == 1)
            for bad in ["?kind=bogus", "?since=yesterday", "?limit=0", "?limit=x"] {
                try await client.execute(uri: "/v1/alerts" + bad, method: .get) { #expect($0.status == .badRequest, "\(bad)") }
            }
        }
    }

    @Test func flowsAndPcaps() async throws {
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/flows?limit=5", method: .get) {
                #expect($0.status == .ok && body($0)["flows"] is [Any] && body($0)["snapshot_age_ms"] as? Int != nil)
            }
            try await client.execute(uri: "/v1/pcaps", method: .get) { #expect((body($0)["pcaps"] as? [Any])?.isEmpty == true) }
            try await client.execute(uri: "/v1/pcaps/x1", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/pcaps/x1", method: .get, headers: Self.auth) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/pcaps/..%2Fetc", method: .get, headers: Self.auth) { #expect($0.status == .badRequest) }
        }
    }

    @Test func aPcapDownloadIsTheFileAndNeedsTheToken() async throws {
        let directory = NSTemporaryDirectory() + "podwall-api-pcaps-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try CaptureStore.withOnePcap(in: directory)
        let withPcaps = APIState(datapath: state.datapath, metrics: state.metrics, alerts: state.alerts, captures: store, token: Self.token)
        try await Application(router: APIServer.router(withPcaps, local: false)).test(.router) { client in
            try await client.execute(uri: "/v1/pcaps", method: .get) { response in
                let pcaps = body(response)["pcaps"] as? [[String: Any]]
                #expect(pcaps?.first?["alert_id"] as? String == "pm-1")
            }
            try await client.execute(uri: "/v1/pcaps/pm-1", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/pcaps/pm-1", method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "application/vnd.tcpdump.pcap")
                #expect(Array(buffer: response.body) == Array(FileManager.default.contents(atPath: store.pcapPath("pm-1")) ?? Data()))
            }
        }
    }
}
