import Testing
@testable import PodwallCore

@Suite("Feed format names and detection")
struct FeedFormatTests {
    @Test func namesRoundTrip() {
        #expect(
            FeedFormat.allCases.map(\.name) == [
                "plain", "netset", "spamhaus-drop", "spamhaus-drop-json", "feodo", "feodo-csv", "crowdsec"
            ])
        for format in FeedFormat.allCases {
            #expect(FeedFormat(name: format.name) == format)
        }
        #expect(FeedFormat(name: "Spamhaus-DROP") == .spamhausDrop)
        #expect(FeedFormat(name: "csv") == nil)
    }

    @Test(arguments: [
        (PlainListParserTests.plain, FeedFormat.plain),
        (PlainListParserTests.netset, .plain),
        (PlainListParserTests.feodo, .plain),
        (SpamhausParserTests.text, .spamhausDrop),
        ("1.10.16.0/20 ; SBL256894\n", .spamhausDrop),
        (SpamhausParserTests.json, .spamhausDropJSON),
        ("{\"sblid\":\"SBL1\",\"cidr\":\"1.10.16.0/20\"}\n", .spamhausDropJSON),
        (FeodoCSVParserTests.csv, .feodoCSV),
        (CrowdSecStreamParserTests.stream, .crowdsec),
        ("{\"deleted\":null,\"new\":null}", .crowdsec),
        ("192.0.2.1 # seen; twice\n", .plain),
        ("", .plain),
        ("# only comments\n", .plain)
    ])
    func detectsFromContent(_ text: String, _ format: FeedFormat) {
        #expect(FeedFormat.detect(text) == format)
    }

    @Test func parserDispatchesOnDetectedFormat() throws {
        guard case .snapshot(let feed) = try FeedParser.parse(FeodoCSVParserTests.csv, source: "c.csv") else {
            Issue.record("Feodo CSV is a snapshot")
            return
        }
        #expect(feed.metadata(for: prefix("50.16.16.211"))?.malware == "QakBot")
        guard case .decisions(let stream) = try FeedParser.parse(CrowdSecStreamParserTests.stream, source: "lapi") else {
            Issue.record("CrowdSec is a delta")
            return
        }
        #expect(stream.deleted.count == 1)
    }

    @Test func explicitFormatOverridesDetection() {
        // Parsed as plain, the Spamhaus comment header is not a comment.
        #expect(
            errorTexts { () throws(FeedRejection) in
                try FeedParser.parse("; header\n1.10.16.0/20\n", source: "d.txt", format: .netset)
            } == ["d.txt:1: unexpected text 'header' after ';'"])
        #expect(!FeedFormat.crowdsec.isSnapshot && FeedFormat.feodo.isSnapshot)
    }
}
