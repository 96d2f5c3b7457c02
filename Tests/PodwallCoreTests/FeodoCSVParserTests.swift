import Testing
@testable import PodwallCore

@Suite("Feodo Tracker CSV")
struct FeodoCSVParserTests {
    static let csv = """
        ################################################################
        # abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #
        # Last updated: 2021-02-08 10:11:08 UTC                        #
        #                                                              #
        # Terms Of Use: https://feodotracker.abuse.ch/blocklist/       #
        ################################################################
        #
        # "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
        "2021-01-17 07:30:05","162.243.103.246","8080","online","2021-02-07","Emotet"
        "2021-01-20 14:12:11","50.16.16.211","443","online","2021-02-08","QakBot"
        "2021-01-29 09:41:42","103.109.247.10","7080","offline","2021-02-01","Dridex"
        # Number of entries: 3
        #END
        """

    @Test func parsesRowsWithMetadata() throws {
        let feed = try FeodoCSVParser.parse(Self.csv, source: "ipblocklist.csv")
        #expect(feed.prefixes == prefixes("162.243.103.246", "50.16.16.211", "103.109.247.10"))
        #expect(feed.metadata(for: prefix("162.243.103.246")) == FeedEntryMetadata(malware: "Emotet", port: 8080, status: "online"))
        #expect(feed.metadata(for: prefix("103.109.247.10"))?.status == "offline")
    }

    @Test func skipsUncommentedHeaderAndAcceptsUnquotedFields() throws {
        let text = #"""
            first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware
            2021-01-17 07:30:05,162.243.103.246,8080,online,2021-02-07,Emotet
            "2021-01-17 07:30:05","50.16.16.211","","online","","Pikabot ""v2"""
            """#
        let feed = try FeodoCSVParser.parse(text, source: "f.csv")
        #expect(feed.count == 2)
        #expect(feed.metadata(for: prefix("50.16.16.211")) == FeedEntryMetadata(malware: "Pikabot \"v2\"", status: "online"))
    }

    @Test func reportsBadRows() {
        let text = """
            # header
            "2021-01-17 07:30:05","162.243.103.246","8080","online","2021-02-07","Emotet"
            "2021-01-17 07:30:05","162.243.103.246","8080","online"
            "2021-01-17 07:30:05","162.243.103.999","8080","online","2021-02-07","Emotet"
            "2021-01-17 07:30:05","162.243.103.1","80a","online","2021-02-07","Emotet"
            "2021-01-17 07:30:05,"162.243.103.2","80","online","2021-02-07","Emotet"
            """
        #expect(
            errorTexts { () throws(FeedRejection) in try FeodoCSVParser.parse(text, source: "f.csv") } == [
                "f.csv:3: row has 4 columns, expected 6",
                "f.csv:4: '162.243.103.999' is not an IPv4 address",
                "f.csv:5: '80a' is not a port number",
                "f.csv:6: '\"2021-01-17 07:30:05,\"162.243.103.2\",\"80\",\"online\",\"2021-02-07\",\"Emotet\"' is not a valid CSV row"
            ])
    }

    @Test(arguments: [
        ("a,b,c", ["a", "b", "c"]),
        ("\"a,b\",c", ["a,b", "c"]),
        ("\"\",", ["", ""]),
        ("\"say \"\"hi\"\"\"", ["say \"hi\""]),
        ("", [""])
    ])
    func splitsCSVFields(_ line: String, _ fields: [String]) {
        #expect(FeedText.withUTF8(line) { CSVRow.fields($0) } == fields)
    }

    @Test(arguments: ["\"open", "\"a\"b", "a\"b"])
    func refusesMalformedQuoting(_ line: String) {
        #expect(FeedText.withUTF8(line) { CSVRow.fields($0) } == nil)
    }
}
