import Testing
@testable import PodwallCore

@Suite("CrowdSec decisions stream")
struct CrowdSecStreamParserTests {
    static let stream = """
        {
          "new": [
            {"duration": "3h59m12s", "id": 1873, "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip", "type": "ban", "value": "192.0.2.10"},
            {"duration": "167h58m3.5s", "id": 1874, "origin": "CAPI", "scenario": "crowdsecurity/http-probing", "scope": "ip", "type": "ban", "value": "2001:db8::1"},
            {"duration": "23h", "id": 1875, "origin": "cscli", "scenario": "manual 'ban' from 'admin'", "scope": "Range", "type": "ban", "value": "198.51.100.0/24"},
            {"duration": "1h", "id": 1876, "origin": "lists", "scenario": "geo", "scope": "Country", "type": "ban", "value": "XX"},
            {"duration": "4h", "id": 1877, "origin": "crowdsec", "scenario": "crowdsecurity/http-bf", "scope": "Ip", "type": "captcha", "value": "192.0.2.99"},
            {"duration": "4h", "id": 1878, "origin": "crowdsec", "scenario": "crowdsecurity/http-bf", "scope": "Ip", "type": "ban", "value": "192.0.2.10"}
          ],
          "deleted": [
            {"duration": "-2h3m1s", "id": 1701, "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip", "type": "ban", "value": "203.0.113.5"}
          ]
        }
        """

    @Test func parsesAddedAndDeletedWithTTLs() throws {
        let stream = try CrowdSecStreamParser.parse(Self.stream, source: "lapi")
        #expect(stream.added.prefixes == prefixes("192.0.2.10", "2001:db8::1", "198.51.100.0/24"))
        #expect(stream.deleted.prefixes == prefixes("203.0.113.5"))
        #expect(stream.added.ignoredCount == 2)
        #expect(stream.added.duplicateCount == 1)
        // The later decision on 192.0.2.10 has the longer TTL and wins.
        #expect(
            stream.added.metadata(for: prefix("192.0.2.10"))
                == FeedEntryMetadata(
                    scenario: "crowdsecurity/http-bf", origin: "crowdsec", ttlSeconds: 4 * 3600
                ))
        #expect(stream.added.metadata(for: prefix("2001:db8::1"))?.ttlSeconds == 167 * 3600 + 58 * 60 + 4)
        #expect(stream.added.metadata(for: prefix("198.51.100.0/24"))?.origin == "cscli")
        #expect(stream.deleted.metadata(for: prefix("203.0.113.5"))?.ttlSeconds == nil)
    }

    @Test(arguments: [
        "{\"new\":null,\"deleted\":null}", "{\"new\":[],\"deleted\":[]}", "{\"deleted\":null}", "{\"new\": null}"
    ])
    func acceptsNullAndEmptyLists(_ text: String) throws {
        let stream = try CrowdSecStreamParser.parse(text, source: "lapi")
        #expect(stream.added.isEmpty && stream.deleted.isEmpty)
    }

    @Test func reportsBadDecisionsOnTheirLines() {
        let text = """
            {"new": [
              {"scope": "Ip", "value": "192.0.2.1", "duration": "1h"},
              {"scope": "Ip", "value": "192.0.2.300", "duration": "1h"},
              {"scope": "Ip", "value": "192.0.2.2", "duration": "soon"},
              {"scope": "Ip", "value": "192.0.2.3", "duration": "-5s"},
              {"scope": "Ip", "value": "192.0.2.4"},
              {"value": "192.0.2.5", "duration": "1h"},
              {"scope": "Range", "duration": "1h"},
              {"scope": "Range", "value": "0.0.0.0/0", "duration": "1h"},
              "192.0.2.6"
            ],
            "deleted": [{"scope": "Ip", "value": "10.0.0.1/8"}]}
            """
        #expect(
            errorTexts { () throws(FeedRejection) in try CrowdSecStreamParser.parse(text, source: "lapi") } == [
                "lapi:3: '192.0.2.300' is not an IPv4 address",
                "lapi:4: 'soon' is not a duration",
                "lapi:5: '-5s' is not a positive duration",
                "lapi:6: decision has no 'duration' string",
                "lapi:7: decision has no 'scope' string",
                "lapi:8: decision has no 'value' string",
                "lapi:9: '0.0.0.0/0' is broader than the minimum prefix /8 (feeds.allow_broad or --allow-broad to accept)",
                "lapi:1: decision is not a JSON object",
                "lapi:12: '10.0.0.1/8' has host bits set"
            ])
    }

    @Test func lenientModeKeepsGoodDecisions() throws {
        let text = """
            {"new":[{"scope":"Ip","value":"192.0.2.1","duration":"1m"},{"scope":"Ip","value":"x","duration":"1m"}],"deleted":null}
            """
        let stream = try CrowdSecStreamParser.parse(text, source: "lapi", mode: .lenient)
        #expect(stream.added.prefixes == prefixes("192.0.2.1"))
        #expect(stream.added.skippedCount == 1)
        #expect(stream.added.errors.map(\.description) == ["lapi:1: 'x' is not an IP address or prefix"])
    }

    @Test(arguments: [
        ("{\"new\": [", "lapi:1: invalid JSON: unexpected end of input"),
        ("{\n\"new\": [}\n", "lapi:2: invalid JSON: unexpected '}'"),
        ("[]", "lapi:1: not a JSON object"),
        ("{\"decisions\": []}", "lapi:1: JSON object has neither 'new' nor 'deleted'"),
        ("{\"new\": {}}", "lapi:1: 'new' is not a list of decisions")
    ])
    func documentErrorsRejectEvenInLenientMode(_ text: String, _ error: String) {
        #expect(
            errorTexts { () throws(FeedRejection) in
                try CrowdSecStreamParser.parse(text, source: "lapi", mode: .lenient)
            } == [error])
    }
}

@Suite("Go durations")
struct GoDurationTests {
    @Test(arguments: [
        ("3h59m12s", 14352.0), ("1h", 3600), ("59m0.5s", 3540.5), ("1.5h", 5400), ("300ms", 0.3), ("0", 0),
        ("-2h3m1s", -7381), ("+1s", 1), ("1h1h", 7200), ("1us", 1e-6), ("1\u{B5}s", 1e-6), ("2ns", 2e-9), (".5s", 0.5)
    ])
    func parses(_ text: String, _ seconds: Double) throws {
        let parsed = try #require(GoDuration.seconds(text))
        #expect(abs(parsed - seconds) < 1e-9)
    }

    @Test(arguments: ["", "1", "h", "1x", "1.2.3s", "-", "1h-2m", ".s", "3 h", "99999999999h"])
    func refuses(_ text: String) {
        #expect(GoDuration.seconds(text) == nil)
    }
}
