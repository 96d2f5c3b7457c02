import Testing
@testable import PodwallCore

@Suite("Spamhaus DROP")
struct SpamhausParserTests {
    static let text = """
        ; Spamhaus DROP List 2024/05/21 - (c) 2024 The Spamhaus Project SLU
        ; https://www.spamhaus.org/drop/drop.txt
        ; Last-Modified: Tue, 21 May 2024 05:10:23 GMT
        ; Expires: Tue, 21 May 2024 06:14:39 GMT
        1.10.16.0/20 ; SBL256894
        1.19.0.0/16 ; SBL434604
        1.32.128.0/18 ; SBL286275
        2.56.192.0/22 ; SBL459831
        5.134.128.0/19
        """

    static let json = """
        {"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}
        {"cidr":"1.19.0.0/16","sblid":"SBL434604","rir":"apnic"}
        {"cidr":"2.56.192.0/22","sblid":"SBL459831","rir":"ripencc"}
        {"cidr":"2a06:e480::/29","sblid":"SBL301771","rir":"ripencc"}
        {"type":"metadata","timestamp":1716267023,"size":3712,"records":4,"copyright":"(c) 2024 The Spamhaus Project SLU","terms":"https://www.spamhaus.org/drop/terms/"}
        """

    @Test func parsesTextWithSBLIDs() throws {
        let feed = try SpamhausDropParser.parse(Self.text, source: "drop.txt")
        #expect(feed.prefixes == prefixes("1.10.16.0/20", "1.19.0.0/16", "1.32.128.0/18", "2.56.192.0/22", "5.134.128.0/19"))
        #expect(feed.metadata(for: prefix("1.10.16.0/20"))?.sblID == "SBL256894")
        #expect(feed.metadata(for: prefix("5.134.128.0/19")) == nil)
    }

    @Test func parsesJSONLinesAndSkipsMetadataRecord() throws {
        let feed = try SpamhausDropJSONParser.parse(Self.json, source: "drop_v4.json", policy: FeedPolicy(minimumIPv6PrefixLength: 16))
        #expect(feed.prefixes == prefixes("1.10.16.0/20", "1.19.0.0/16", "2.56.192.0/22", "2a06:e480::/29"))
        #expect(feed.metadata(for: prefix("2.56.192.0/22")) == FeedEntryMetadata(sblID: "SBL459831", rir: "ripencc"))
        #expect(feed.lineCount == 5)
    }

    @Test func refusesIPv6BroaderThanDefaultMinimum() {
        // /29 is shorter than the default IPv6 minimum of /32.
        #expect(
            errorTexts { () throws(FeedRejection) in try SpamhausDropJSONParser.parse(Self.json, source: "drop.json") } == [
                "drop.json:4: '2a06:e480::/29' is broader than the minimum prefix /32 (feeds.allow_broad or --allow-broad to accept)"
            ])
    }

    @Test func reportsBadTextLines() {
        let text = """
            ; header
            1.10.16.0/20 ; SBL256894
            300.1.2.3/24 ; SBL1
            1.10.16.0/20 SBL256894 ; missing separator
            """
        #expect(
            errorTexts { () throws(FeedRejection) in try SpamhausDropParser.parse(text, source: "drop.txt") } == [
                "drop.txt:3: '300.1.2.3/24' is not an IPv4 address",
                "drop.txt:4: unexpected text 'SBL256894' after '1.10.16.0/20'"
            ])
    }

    @Test func reportsBadJSONLines() {
        let text = """
            {"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}
            1.19.0.0/16
            ["1.19.0.0/16"]
            {"cidr":"1.19.0.0/16"
            {"sblid":"SBL1"}
            {"cidr":19}
            {"cidr":"1.2.3.0/33","sblid":"SBL2"}
            """
        #expect(
            errorTexts { () throws(FeedRejection) in try SpamhausDropJSONParser.parse(text, source: "y.json") } == [
                "y.json:2: not a JSON object",
                "y.json:3: not a JSON object",
                "y.json:4: not a JSON object",
                "y.json:5: JSON object has no 'cidr' string",
                "y.json:6: JSON object has no 'cidr' string",
                "y.json:7: '1.2.3.0/33' has prefix length 33, IPv4 allows 0-32"
            ])
    }
}
