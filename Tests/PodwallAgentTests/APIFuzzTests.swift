import Foundation
import Hummingbird
import HummingbirdTesting
@testable import PodwallAgent
import PodwallCapture
import PodwallCore
import PodwallKernel
import PodwallTestSupport
import Testing

/// Seeded random requests against the HTTP API, in process, against real
/// (private, unpinned) BPF maps. Whatever comes in: never a 5xx, every 4xx
/// is `{"error": "..."}`, a request that is refused or unauthorized changes
/// nothing, and an accepted write is exactly what a reference decoder of the
/// generated body says. Seeded, so a failure reproduces from its case number.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct APIFuzzTests {
    static let token = "fuzz-T0ken_\(getpid())"
    static let cases = 5000
    static let maxTTL = APIServer.maxTTLSeconds

    let state: APIState
    let app: Application<RouterResponder<BasicRequestContext>>
    let root = NSTemporaryDirectory() + "podwall-api-fuzz-\(UUID().uuidString)"
    var captureDirectory: String { root + "/captures" }
    /// A capture summary and pcap outside the capture directory: no id may reach them.
    let secret = Array("secret outside the capture directory".utf8)

    init() throws {
        LibbpfLog.capture(echo: false)
        // BPF first: without it there is no directory to remove (the test removes it).
        let datapath = try Datapath(options: .init(pinRoot: nil, flowEntries: 4096))
        let store: CaptureStore
        do {
            store = try CaptureStore.withOnePcap(in: root + "/captures")
            try Data(secret).write(to: URL(fileURLWithPath: root + "/secret.pcap"))
            try CaptureStore(directory: root).saveSummary(id: "secret", file: root + "/secret.pcap")
        } catch {
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
        state = APIState(datapath: datapath, metrics: AgentMetrics(), alerts: AlertLog(), captures: store, token: Self.token)
        state.markReady(interfaces: 1)  // a starting agent's /readyz answers 503 by design
        app = Application(router: APIServer.router(state, local: false))
    }

    // MARK: - The kernel state a write may change

    struct Snapshot: Equatable {
        var blocks: [IPPrefix: Blocklist.Entry]
        var quarantined: [UInt32: QuarantineTable.Entry]
    }

    func snapshot() -> Snapshot {
        Snapshot(
            blocks: state.datapath.blocklist.entries(),
            quarantined: state.datapath.quarantine.entries())
    }

    func clear() throws {
        for prefix in state.datapath.blocklist.entries().keys { _ = try state.datapath.blocklist.removeDynamic(prefix) }
        for ifindex in state.datapath.quarantine.interfaces() { try state.datapath.quarantine.release(ifindex) }
    }

    // MARK: - The properties

    @Test func randomRequestsNeverFailAndOnlyValidAuthorizedWritesChangeState() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pcapBytes = Array(FileManager.default.contents(atPath: captureDirectory + "/pm-1.pcap") ?? Data())
        let passwd = Array(FileManager.default.contents(atPath: "/etc/passwd") ?? Data())
        let started = Date()
        let tally = try await app.test(.router) { client in
            var rng = SplitMix64(seed: 0xA91_F022)
            var tally = (statuses: [Int: Int](), accepted: 0, refused: 0, unauthorized: 0)
            var before = snapshot()
            for number in 0..<Self.cases {
                if number % 100 == 0 {
                    try clear()
                    before = snapshot()
                }
                let request = APIFuzz.request(&rng, number: number)
                let nowBefore = MonotonicClock.now()
                let response = try await client.execute(
                    uri: request.uri, method: request.method, headers: request.headers,
                    body: request.body.map { ByteBuffer(bytes: $0) }
                ) { $0 }
                let nowAfter = MonotonicClock.now()
                let after = snapshot()
                defer { before = after }  // nothing else changes the maps between two requests
                let status = Int(response.status.code)
                let body = Array(buffer: response.body)
                tally.statuses[status, default: 0] += 1
                let context: Comment =
                    "case \(number): \(request)\n→ \(status) \(String(decoding: body.prefix(300), as: UTF8.self).debugDescription)"

                // Never a server error; every client error says why, as JSON.
                #expect(status < 500, context)
                if (400..<500).contains(status) && request.method != .head {
                    let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
                    #expect(object?["error"] is String, context)
                }
                // Refused, unauthorized and read requests change nothing.
                if !(200..<300).contains(status) || !request.authorized || request.method == .get {
                    #expect(after == before, context)
                }
                if request.isWrite && !request.authorized {
                    #expect(status == 401 || status == 403, context)
                    tally.unauthorized += 1
                }
                // No pcap id reaches a file outside the capture directory.
                if response.headers[.contentType] == "application/vnd.tcpdump.pcap" {
                    #expect(body == pcapBytes, context)
                }
                #expect(body != secret && (passwd.isEmpty || body != passwd), context)

                guard request.authorized || !request.isWrite else { continue }
                switch request.expected {
                case .unknown:
                    break
                case .rejected:
                    #expect((400..<500).contains(status), context)
                    tally.refused += 1
                case .status(let code):
                    #expect(status == code, context)
                case .block(let prefix, let ttl):
                    #expect(status == 201, context)
                    var expected = before.blocks
                    let entry = after.blocks[prefix]
                    #expect(entry?.isDynamic == true, context)
                    if let ttl {
                        let expires = entry?.expiresNs ?? 0
                        #expect(expires >= nowBefore + ttl * 1_000_000_000 && expires <= nowAfter + ttl * 1_000_000_000, context)
                    } else {
                        #expect(entry?.expiresNs == 0, context)
                    }
                    expected[prefix] = entry
                    #expect(after.blocks == expected, "exactly that entry changed; \(context)")
                    tally.accepted += 1
                case .unblock(let prefix):
                    let listed = before.blocks[prefix]?.isDynamic == true
                    #expect(status == (listed ? 204 : 404), context)
                    var expected = before.blocks
                    if listed { expected[prefix] = nil }
                    #expect(after.blocks == expected, context)
                    #expect(after.quarantined == before.quarantined, context)
                case .quarantine(let ifindex, let ttl):
                    #expect(status == 201, context)
                    let entry = after.quarantined[ifindex]
                    #expect(entry != nil && entry?.expiresNs == ttl.map { (entry?.sinceNs ?? 0) + $0 * 1_000_000_000 }, context)
                    var expected = before.quarantined
                    expected[ifindex] = entry
                    #expect(after.quarantined == expected && after.blocks == before.blocks, context)
                    tally.accepted += 1
                case .release(let ifindex):
                    let listed = before.quarantined[ifindex] != nil
                    #expect(status == (listed ? 204 : 404), context)
                    var expected = before.quarantined
                    expected[ifindex] = nil
                    #expect(after.quarantined == expected && after.blocks == before.blocks, context)
                }
            }
            return tally
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "API fuzz: \(Self.cases) cases in \(String(format: "%.1f", seconds)) s; \(tally.accepted) accepted writes, \(tally.refused) refused, \(tally.unauthorized) unauthorized; statuses \(tally.statuses.sorted { $0.key < $1.key })"
        )
        #expect(tally.accepted > Self.cases / 50 && tally.refused > Self.cases / 10, "the generator must reach both outcomes")
    }
}

/// The request generator and its reference decoder.
enum APIFuzz {
    enum Expected {
        /// Only the properties that hold for every request.
        case unknown
        /// Any 4xx, nothing changed.
        case rejected
        case status(Int)
        case block(IPPrefix, ttl: UInt64?)
        case unblock(IPPrefix)
        case quarantine(UInt32, ttl: UInt64?)
        case release(UInt32)
    }

    struct Request: CustomStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var headers: HTTPFields = [:]
        var body: [UInt8]?
        var expected: Expected = .unknown
        /// A route that changes state or serves a pcap (matched exactly).
        var isWrite = false

        var authorized: Bool { headers[.authorization] == "Bearer \(APIFuzzTests.token)" }

        var description: String {
            let text = body.map {
                String(decoding: $0.prefix(200), as: UTF8.self).debugDescription + ($0.count > 200 ? "…(\($0.count) bytes)" : "")
            }
            return
                "\(method) \(String(uri.prefix(300)).debugDescription) auth=\(headers[.authorization].map { String($0.prefix(80)).debugDescription } ?? "none") body=\(text ?? "none")"
        }
    }

    static func pick<T>(_ items: [T], _ rng: inout SplitMix64) -> T { items[Int(rng.next() % UInt64(items.count))] }
    static func chance(_ percent: UInt64, _ rng: inout SplitMix64) -> Bool { rng.next() % 100 < percent }

    static func request(_ rng: inout SplitMix64, number: Int) -> Request {
        var request: Request
        switch rng.next() % 100 {
        case 0..<25: request = addBlock(&rng, oversized: number % 997 == 500)
        case 25..<35: request = removeBlock(&rng)
        case 35..<50: request = addQuarantine(&rng)
        case 50..<57: request = release(&rng)
        case 57..<72: request = read(&rng)
        case 72..<80: request = pcap(&rng)
        default: request = noise(&rng)
        }
        request.headers.append(contentsOf: authorization(&rng))
        if chance(70, &rng) {
            request.headers[.contentType] = pick(
                ["application/json", "text/plain", "application/x-www-form-urlencoded", "∅; charset=☃", ""], &rng)
        }
        return request
    }

    // MARK: Headers

    static func authorization(_ rng: inout SplitMix64) -> HTTPFields {
        let token = APIFuzzTests.token
        let value: String?
        switch rng.next() % 16 {
        case 0..<7: value = "Bearer \(token)"
        case 7: value = nil
        case 8: value = "Bearer wrong"
        case 9: value = "bearer \(token)"
        case 10: value = "Bearer \(token.dropLast())"
        case 11: value = "Bearer \(token)x"
        case 12:
            value = pick(
                ["Basic \(Data(token.utf8).base64EncodedString())", token, "Bearer", "Bearer ", "Bearer  \(token)", "Token \(token)"], &rng)
        case 13:
            value =
                "Bearer " + String(decoding: (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self)
        case 14: value = "Bearer \(token)\u{0}"
        default:
            // Two Authorization fields: combined, they are not the token.
            return [.authorization: "Bearer \(token)", .authorization: pick(["Bearer \(token)", "Bearer x"], &rng)]
        }
        return value.map { [.authorization: $0] } ?? [:]
    }

    // MARK: JSON bodies with a reference decoder

    /// A JSON text and what a correct decoder makes of it.
    enum Value {
        case string(String)
        /// A JSON number with this exact integer value (nil: not an integer).
        case integer(Decimal?)
        case null
        case other
    }

    static func jsonString(_ text: String, _ rng: inout SplitMix64) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || (scalar.isASCII && chance(5, &rng)):
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static let prefixes = [
        "203.0.113.0/24", "198.51.100.7", "2001:db8::/48", "2001:db8::1", "0.0.0.0/0", "::/0", "::ffff:192.0.2.1",
        "203.0.113.5/24", "192.0.2.1/32", "10.0.0.0/8", "fd00::/8", "2001:DB8:0:0:0:0:0:1/128",
        "300.1.2.3", "1.2.3.4/33", "1.2.3.4/-1", "", " ", "1.2.3", "::gg", "1.2.3.4/", "/24", "1.2.3.4/24/1", "1.2.3.4\u{0}",
        "١٢.٣.٤.٥", " 1.2.3.4", "1.2.3.4 ", "01.2.3.4", "1.2.3.4/08", "0x7f.0.0.1", "2001:db8::/129", "2001:db8:::1",
        "🙂", "../../etc/passwd", String(repeating: "9", count: 5000), "1.2.3.4/24\n", "1.1.1.1,2.2.2.2"
    ]

    static func prefixText(_ rng: inout SplitMix64) -> String {
        if chance(30, &rng) { return pick(Array(prefixes.prefix(12)), &rng) }  // the ones that parse
        if chance(30, &rng) {
            if chance(60, &rng) {
                let address = "\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 256)"
                return chance(50, &rng) ? address : "\(address)/\(rng.next() % 40)"
            }
            let groups = (0..<8).map { _ in String(rng.next() % 0x10000, radix: 16) }.joined(separator: ":")
            return "\(groups)/\(rng.next() % 140)"
        }
        return pick(prefixes, &rng)
    }

    static func ttl(_ rng: inout SplitMix64) -> (json: String, value: Value)? {
        switch rng.next() % 24 {
        case 0..<5: return nil
        case 5: return ("null", .null)
        case 6..<10:
            let seconds = 1 + rng.next() % APIFuzzTests.maxTTL
            return ("\(seconds)", .integer(Decimal(seconds)))
        case 10: return (pick(["600.0", "6e2", "6.0E2", "0.6e3", "60000e-2"], &rng), .integer(600))
        case 11: return (pick(["600.5", "1e-5", "0.1", "-0.5"], &rng), .integer(nil))
        case 12: return (pick(["0", "-0", "0.0"], &rng), .integer(0))
        case 13: return (pick(["-1", "-600", "-9223372036854775808"], &rng), .integer(-1))
        case 14: return ("31536000", .integer(31_536_000))
        case 15: return ("31536001", .integer(31_536_001))
        case 16: return ("18446744073709551615", .integer(Decimal(UInt64.max)))
        case 17: return ("18446744073709551616", .integer(Decimal(UInt64.max) + 1))
        case 18: return (pick(["1e300", "9223372036854775807", "4611686018427387904"], &rng), .integer(Decimal(Int64.max)))  // all too long
        case 19: return (pick(["\"600\"", "true", "false", "[600]", "{\"s\":600}", "\"\""], &rng), .other)
        default:
            let seconds = 1 + rng.next() % 3600
            return ("\(seconds)", .integer(Decimal(seconds)))
        }
    }

    /// The reference decoder's verdict on ttl_seconds: nil = refused.
    static func validTTL(_ value: Value?) -> UInt64?? {
        switch value {
        case nil, .null: return .some(nil)
        case .integer(let number?) where number >= 1 && number <= Decimal(APIFuzzTests.maxTTL):
            return .some(UInt64(truncating: number as NSNumber))
        default: return nil
        }
    }

    /// An object with the given members (in random order, random spacing,
    /// sometimes an unknown member, which the API refuses: a typo such as
    /// "ttl" must not become a block without expiry).
    static func object(_ members: [(String, String)], _ rng: inout SplitMix64) -> (json: String, unknownMember: Bool) {
        var members = members
        let unknownMember = chance(20, &rng)
        if unknownMember { members.append((pick(["extra", "ttl", "Prefix", "comment"], &rng), pick(["1", "\"x\"", "null", "[]"], &rng))) }
        members.shuffle(using: &rng)
        let space = chance(30, &rng) ? " \n\t" : ""
        return (
            "{" + space + members.map { "\"\($0.0)\"\(space):\(space)\($0.1)" }.joined(separator: ",\(space)") + space + "}", unknownMember
        )
    }

    /// Mangles a body the reference decoder accepted or refused; returns the
    /// bytes and whether the reference verdict still stands (else: refused).
    static func mangle(_ json: String, _ rng: inout SplitMix64, oversized: Bool) -> (bytes: [UInt8]?, keepsVerdict: Bool, unknown: Bool) {
        let bytes = Array(json.utf8)
        if oversized {
            // Past the 2 MiB upload limit: refused whatever it says.
            return (
                Array("{\"pad\":\"".utf8) + [UInt8](repeating: 0x61, count: 2 * 1024 * 1024 + 10) + Array("\",".utf8) + bytes.dropFirst(),
                false, false
            )
        }
        switch rng.next() % 100 {
        case 0..<62: return (bytes, true, false)
        case 62..<72: return (Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))), false, false)  // truncated
        case 72..<76: return (nil, false, false)
        case 76..<80: return (Array(pick(["[\(json)]", "\"\(json)\"", "5", "null", "true", "[]", "{}"], &rng).utf8), false, false)
        case 80..<84: return (bytes + Array(pick([" x", ",", "}", "{}"], &rng).utf8), false, false)
        case 84..<88: return (Array("  \r\n".utf8) + bytes + Array("\n ".utf8), true, false)
        case 88..<92:
            // Invalid UTF-8 inside the document.
            var copy = bytes
            copy.insert(pick([0xff, 0xc0, 0x80, 0xed], &rng), at: 1 + Int(rng.next() % UInt64(max(1, copy.count - 1))))
            return (copy, false, true)
        default:
            let random = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let valid = (try? JSONSerialization.jsonObject(with: Data(random), options: [.fragmentsAllowed])) != nil
            return (random, false, valid)
        }
    }

    static func addBlock(_ rng: inout SplitMix64, oversized: Bool) -> Request {
        var members: [(String, String)] = []
        var prefix: Value
        switch rng.next() % 10 {
        case 0: prefix = .other; members.append(("prefix", pick(["5", "true", "[\"1.2.3.4\"]", "{\"p\":1}", "1.2"], &rng)))
        case 1: prefix = .null; members.append(("prefix", "null"))
        case 2: prefix = .other  // missing
        default:
            let text = prefixText(&rng)
            prefix = .string(text)
            members.append(("prefix", jsonString(text, &rng)))
        }
        let ttl = ttl(&rng)
        if let ttl { members.append(("ttl_seconds", ttl.json)) }
        let body = object(members, &rng)
        let (bytes, keepsVerdict, unknown) = mangle(body.json, &rng, oversized: oversized)
        var expected = Expected.rejected
        // Prefixes broader than the feed limits (the /0s) are refused like bad ones.
        if case .string(let text) = prefix, let parsed = IPPrefix(text), FeedPolicy().refusal(of: parsed, token: text) == nil,
            case let seconds? = validTTL(ttl?.value), keepsVerdict, !body.unknownMember
        {
            expected = .block(parsed, ttl: seconds)
        }
        return Request(method: .post, uri: "/v1/blocklist", body: bytes, expected: unknown ? .unknown : expected, isWrite: true)
    }

    static func interfaces() -> [String] {
        var names: [String] = []
        if let list = if_nameindex() {
            var entry = list
            while entry.pointee.if_index != 0 { names.append(String(cString: entry.pointee.if_name)); entry += 1 }
            if_freenameindex(list)
        }
        return names
    }

    static let junkInterfaces = [
        "no-such-if0", "", "LO", "lo ", " lo", "lo\u{0}x", "lo\u{0}", "../lo", "veth-*", "l", "🙂",
        String(repeating: "a", count: 16), String(repeating: "lo", count: 300), "lo%00", "eth0/1"
    ]

    static func interfaceName(_ rng: inout SplitMix64) -> String {
        chance(50, &rng) ? pick(interfaces(), &rng) : pick(junkInterfaces, &rng)
    }

    /// The reference for an interface name: an existing interface whose
    /// name is exactly this (a NUL would cut it short in C).
    static func ifindex(_ name: String) -> UInt32 {
        name.contains("\u{0}") ? 0 : if_nametoindex(name)
    }

    static func addQuarantine(_ rng: inout SplitMix64) -> Request {
        var members: [(String, String)] = []
        var name: String?
        switch rng.next() % 10 {
        case 0: members.append(("interface", pick(["1", "true", "[\"lo\"]", "null"], &rng)))
        case 1: break
        default:
            name = interfaceName(&rng)
            members.append(("interface", jsonString(name!, &rng)))
        }
        let ttl = ttl(&rng)
        if let ttl { members.append(("ttl_seconds", ttl.json)) }
        let body = object(members, &rng)
        let (bytes, keepsVerdict, unknown) = mangle(body.json, &rng, oversized: false)
        var expected = Expected.rejected
        if let name, case let index = ifindex(name), index != 0, case let seconds? = validTTL(ttl?.value), keepsVerdict, !body.unknownMember
        {
            expected = .quarantine(index, ttl: seconds)
        }
        return Request(method: .post, uri: "/v1/quarantine", body: bytes, expected: unknown ? .unknown : expected, isWrite: true)
    }

    /// Percent-encodes every byte outside the unreserved set (and some inside it).
    static func percentEncoded(_ text: String, _ rng: inout SplitMix64) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        return text.utf8.map { unreserved.contains($0) && !chance(10, &rng) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }
            .joined()
    }

    static func removeBlock(_ rng: inout SplitMix64) -> Request {
        // Often one the fuzzer may have listed.
        let text =
            chance(40, &rng)
            ? pick(["203.0.113.0/24", "198.51.100.7", "2001:db8::/48", "0.0.0.0/0", "::/0", "192.0.2.1"], &rng) : prefixText(&rng)
        let segment = percentEncoded(text, &rng)
        let expected: Expected = segment.isEmpty ? .rejected : IPPrefix(text).map { .unblock($0) } ?? .rejected
        return Request(method: .delete, uri: "/v1/blocklist/" + segment, expected: expected, isWrite: !segment.isEmpty)
    }

    static func release(_ rng: inout SplitMix64) -> Request {
        let name = interfaceName(&rng)
        let plain = !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && !"/?#%".utf8.contains($0) }
        guard plain else { return Request(method: .delete, uri: "/v1/quarantine/" + percentEncoded(name, &rng), isWrite: !name.isEmpty) }
        let index = ifindex(name)
        return Request(method: .delete, uri: "/v1/quarantine/" + name, expected: index == 0 ? .rejected : .release(index), isWrite: true)
    }

    static let queryValues = [
        "port_scan", "exfiltration", "bogus", "", "10.0.0.5", "pod-1", "2027-01-15T08:01:00Z", "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "yesterday", "2027-01-15T08:01:00+99:00",
        "1", "5", "100", "1000", "1001", "10000", "100000", "100001", "0", "-1", "x", "1e3", "99999999999999999999",
        "%zz", "%", "&", "=", "%00", "☃", String(repeating: "z", count: 3000)
    ]

    /// Mostly values meant for the key (a time far in the future for since), else any.
    static let valuesByKey = [
        "kind": ["port_scan", "exfiltration", "protocol_mismatch", "blocklist_hit", "bogus", "", "PORT_SCAN"],
        "since": [
            "2027-01-15T08:01:00Z", "9999-12-31T23:59:59Z", "2600-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
            "2026-02-30T00:00:00Z", "2027-01-15", "2027-01-15T08:01:00.5Z", "2027-01-15T08:01:00+99:00"
        ],
        "limit": ["1", "5", "100", "1000", "1001", "10000", "100000", "100001", "0", "-1", "x", "1e3", "99999999999999999999", " 5", "5 "],
        "pod": ["10.0.0.5", "pod-1", "default/web", "198.18.0.11"]
    ]

    static func read(_ rng: inout SplitMix64) -> Request {
        let (path, max) = pick(
            [("/v1/alerts", 1000), ("/v1/flows", 10_000), ("/v1/blocklist", 100_000), ("/v1/quarantine", 0), ("/v1/pcaps", 0)], &rng)
        var parameters: [String] = []
        var limits: [String] = []
        var plain = true
        for _ in 0..<Int(rng.next() % 5) {
            let key = pick(["kind", "pod", "since", "limit", "junk", "", "limit[]"], &rng)
            let value = chance(70, &rng) ? pick(valuesByKey[key] ?? queryValues, &rng) : pick(queryValues, &rng)
            let raw = chance(20, &rng)
            if raw && value.utf8.contains(where: { "%&=☃".utf8.contains($0) || $0 > 0x7f }) { plain = false }
            if key == "limit" { limits.append(value) }
            parameters.append(key + (chance(90, &rng) ? "=" + (raw ? value : percentEncoded(value, &rng)) : ""))
        }
        let uri = path + (parameters.isEmpty ? pick(["", "?"], &rng) : "?" + parameters.joined(separator: "&"))
        var expected = Expected.unknown
        // The limit's reference verdict, where the endpoint takes one and the query is unambiguous.
        if max == 0 {
            expected = .status(200)
        } else if plain, limits.count <= 1, !parameters.contains(where: { $0.hasPrefix("kind") || $0.hasPrefix("since") || $0 == "limit" })
        {
            let valid = limits.first.map { Int($0).map { (1...max).contains($0) } ?? false } ?? true
            expected = .status(valid ? 200 : 400)
        }
        return Request(method: .get, uri: uri, expected: expected)
    }

    static let pcapIDs = [
        "pm-1", "pm-2", "secret", "../secret", "..%2Fsecret", "%2E%2E%2Fsecret", "..%252Fsecret", "....%2F%2Fsecret",
        "..%5Csecret", "pm-1%2F..%2F..%2Fsecret", "%2Fetc%2Fpasswd", "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        ".hidden", "pm-1%00", "pm-1.pcap", "pm-1.json", "", "%E2%98%83", String(repeating: "a", count: 129),
        "captures%2Fpm-1", "pm-1%20", "%20pm-1", "PM-1", "pm-1;", "pm-1?x=1", "pm-1#x", "pm%2D1", "..", "."
    ]

    static func pcap(_ rng: inout SplitMix64) -> Request {
        let id = pick(pcapIDs, &rng)
        let expected: Expected
        switch id {
        case "", ".", "..", "../secret": return Request(method: .get, uri: "/v1/pcaps/" + id)  // another route, or none
        case "pm-1", "pm-1?x=1": expected = .status(200)
        case "pm-1#x", "pm%2D1": expected = .unknown  // whether a fragment or an escape is decoded is the framework's choice
        case "pm-2", "pm-1.pcap", "pm-1.json", "PM-1", "secret": expected = .status(404)
        default: expected = .rejected
        }
        return Request(method: .get, uri: "/v1/pcaps/" + id, expected: expected, isWrite: true)
    }

    static let paths = [
        "/", "/healthz", "/readyz", "/metrics", "/v1", "/v1/", "/v1/blocklist", "/v1/blocklist/", "/v1/quarantine",
        "/v1/alerts", "/v1/flows", "/v1/pcaps", "/v1/pcaps/", "//v1//blocklist", "/V1/BLOCKLIST", "/../v1/blocklist",
        "/v1/blocklist/203.0.113.0/24", "/v1/blocklist/..%2F..", "/v2/blocklist", "/v1/blocklist%2F1.2.3.4",
        "/v1/quarantine/lo/extra", "/v1/pcaps/pm-1/..", "/%00", "/v1/alerts?limit=%", "*", "",
        "/" + String(repeating: "a/", count: 500), "/v1/blocklist?prefix=1.2.3.4"
    ]

    /// Any method on any path, with any body.
    static func noise(_ rng: inout SplitMix64) -> Request {
        let method = pick([.get, .post, .put, .delete, .patch, .head, .options, .connect, HTTPRequest.Method("PURGE")!], &rng)
        var path = pick(paths, &rng)
        if chance(30, &rng) {
            path +=
                "/"
                + percentEncoded(
                    String(decoding: (0..<Int(rng.next() % 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self), &rng)
        }
        let body = chance(50, &rng) ? (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } : nil
        return Request(method: method, uri: path, body: body)
    }
}
