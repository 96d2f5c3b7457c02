import Testing
@testable import PodwallCore

@Suite("Plain lists, FireHOL netsets, Feodo plain")
struct PlainListParserTests {
    static let plain = """
        # podwall sample plain blocklist
        # One IPv4/IPv6 address or CIDR per line; '#' starts a comment.

        192.0.2.1
        198.51.100.0/24   # scanner range
        203.0.113.7\r
        \t203.0.113.64/26
        2001:db8::dead:beef
        2001:db8:bad::/48
        192.0.2.1
        """

    static let netset = """
        #
        # firehol_level1 (sample excerpt)
        #
        # ipv4 hash:net ipset
        #
        # Maintainer      : FireHOL
        # Maintainer URL  : http://iplists.firehol.org/
        #
        0.0.0.0/8
        1.10.16.0/20
        1.19.0.0/16
        2.56.192.0/22
        192.0.2.0/24

        """

    static let feodo = """
        ################################################################
        # abuse.ch Feodo Tracker Botnet C2 IP Blocklist (recommended)  #
        # Last updated: 2024-05-21 10:05:12 UTC                        #
        ################################################################
        #
        # DstIP
        162.243.103.246
        50.16.16.211
        103.109.247.10
        # END 3 entries
        """

    @Test func parsesPlainListWithCommentsWhitespaceAndCRLF() throws {
        let feed = try PlainListParser.parse(Self.plain, source: "plain.txt")
        #expect(
            feed.prefixes
                == prefixes(
                    "192.0.2.1", "198.51.100.0/24", "203.0.113.7", "203.0.113.64/26", "2001:db8::dead:beef", "2001:db8:bad::/48"
                ))
        #expect(feed.lineCount == 10)
        #expect(feed.duplicateCount == 1)
        #expect(feed.ipv4Count == 4)
        #expect(feed.ipv6Count == 2)
        #expect(feed.metadata.isEmpty)
        #expect(feed.skippedCount == 0)
    }

    @Test func parsesFireHOLNetset() throws {
        let feed = try PlainListParser.parse(Self.netset, source: "firehol_level1.netset")
        #expect(feed.count == 5)
        #expect(feed.contains(prefix("1.10.16.0/20")))
        #expect(feed.prefixes.first == prefix("0.0.0.0/8"))
    }

    @Test func parsesFeodoPlain() throws {
        let feed = try PlainListParser.parse(Self.feodo, source: "ipblocklist.txt")
        #expect(feed.prefixes == prefixes("162.243.103.246", "50.16.16.211", "103.109.247.10"))
        #expect(feed.prefixes.allSatisfy { $0.isSingleAddress })
    }

    @Test func parsesBytesLikeText() throws {
        let fromBytes = try PlainListParser.parse(Array(Self.plain.utf8), source: "plain.txt")
        #expect(fromBytes == (try PlainListParser.parse(Self.plain, source: "plain.txt")))
    }

    @Test func dropsByteOrderMark() throws {
        let feed = try PlainListParser.parse([0xEF, 0xBB, 0xBF] + Array("192.0.2.1\n".utf8), source: "bom.txt")
        #expect(feed.prefixes == prefixes("192.0.2.1"))
    }

    @Test func emptyAndCommentOnlyFeedsAreEmpty() throws {
        #expect(try PlainListParser.parse("", source: "empty.txt").isEmpty)
        #expect(try PlainListParser.parse("# nothing\n\n#\n", source: "c.txt").lineCount == 3)
    }

    @Test func reportsEveryKindOfBadLine() {
        let text = """
            # header
            192.0.2.1
            300.1.2.3/24
            1.2.3.0/33
            10.1.2.3/8
            01.2.3.4
            0.0.0.0/0
            2001:db8::/129
            1:2:3:4:5:6:7:8:9
            ::1::
            12345::
            fe80::1%eth0
            not-an-address
            198.51.100.7 extra   # comment
            ::/0
            10.0.0.0/08
            """
        #expect(
            errorTexts { () throws(FeedRejection) in try PlainListParser.parse(text, source: "x.txt") } == [
                "x.txt:3: '300.1.2.3/24' is not an IPv4 address",
                "x.txt:4: '1.2.3.0/33' has prefix length 33, IPv4 allows 0-32",
                "x.txt:5: '10.1.2.3/8' has host bits set",
                "x.txt:6: '01.2.3.4' is not an IPv4 address",
                "x.txt:7: '0.0.0.0/0' is broader than the minimum prefix /8 (feeds.allow_broad or --allow-broad to accept)",
                "x.txt:8: '2001:db8::/129' has prefix length 129, IPv6 allows 0-128",
                "x.txt:9: '1:2:3:4:5:6:7:8:9' is not an IPv6 address",
                "x.txt:10: '::1::' is not an IPv6 address",
                "x.txt:11: '12345::' is not an IPv6 address",
                "x.txt:12: 'fe80::1%eth0' is not an IPv6 address",
                "x.txt:13: 'not-an-address' is not an IP address or prefix",
                "x.txt:14: unexpected text 'extra' after '198.51.100.7'",
                "x.txt:15: '::/0' is broader than the minimum prefix /32 (feeds.allow_broad or --allow-broad to accept)",
                "x.txt:16: '10.0.0.0/08' has an invalid prefix length"
            ])
    }
}
