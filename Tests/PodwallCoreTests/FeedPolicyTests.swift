import Testing
@testable import PodwallCore

@Suite("Strict and lenient modes, policy limits")
struct FeedPolicyTests {
    static let mixed = """
        192.0.2.1
        300.1.2.3
        198.51.100.0/24
        10.1.2.3/8
        """

    @Test func strictRejectsTheWholeFeed() throws {
        let rejection = try #require(rejection { () throws(FeedRejection) in try PlainListParser.parse(Self.mixed, source: "m.txt") })
        #expect(rejection.errorCount == 2)
        #expect(
            rejection.description == """
                m.txt: feed rejected, 2 errors
                m.txt:2: '300.1.2.3' is not an IPv4 address
                m.txt:4: '10.1.2.3/8' has host bits set
                """)
    }

    @Test func lenientSkipsAndCounts() throws {
        let feed = try PlainListParser.parse(Self.mixed, source: "m.txt", mode: .lenient)
        #expect(feed.prefixes == prefixes("192.0.2.1", "198.51.100.0/24"))
        #expect(feed.skippedCount == 2)
        #expect(feed.errors.map(\.line) == [2, 4])
    }

    @Test func keepsOnlyTheFirstHundredErrors() throws {
        let text = (1...250).map { "bad\($0)" }.joined(separator: "\n")
        let rejection = try #require(rejection { () throws(FeedRejection) in try PlainListParser.parse(text, source: "b.txt") })
        #expect(rejection.errorCount == 250)
        #expect(rejection.errors.count == 100)
        #expect(rejection.errors.last?.description == "b.txt:100: 'bad100' is not an IP address or prefix")
        #expect(rejection.description.hasSuffix("b.txt: 150 more errors not shown"))
        let lenient = try PlainListParser.parse(text, source: "b.txt", mode: .lenient)
        #expect(lenient.skippedCount == 250 && lenient.errors.count == 100 && lenient.isEmpty)
    }

    @Test(arguments: [
        ("0.0.0.0/0", "'0.0.0.0/0' is broader than the minimum prefix /8 (feeds.allow_broad or --allow-broad to accept)"),
        ("224.0.0.0/3", "'224.0.0.0/3' is broader than the minimum prefix /8 (feeds.allow_broad or --allow-broad to accept)"),
        ("::/0", "'::/0' is broader than the minimum prefix /32 (feeds.allow_broad or --allow-broad to accept)"),
        ("2001::/16", "'2001::/16' is broader than the minimum prefix /32 (feeds.allow_broad or --allow-broad to accept)"),
        ("::ffff:0.0.0.0/96", "'::ffff:0.0.0.0/96' is broader than the minimum prefix /8 (feeds.allow_broad or --allow-broad to accept)")
    ])
    func refusesBroadPrefixes(_ text: String, _ reason: String) {
        #expect(errorTexts { () throws(FeedRejection) in try PlainListParser.parse(text, source: "p") } == ["p:1: \(reason)"])
    }

    @Test(arguments: ["::/32", "::/64", "::/80"])
    func refusesIPv6PrefixesCoveringMappedIPv4(_ text: String) throws {
        let reason = "p:1: '\(text)' covers all IPv4 addresses (::ffff:0:0/96) (feeds.allow_broad or --allow-broad to accept)"
        #expect(errorTexts { () throws(FeedRejection) in try PlainListParser.parse(text, source: "p") } == [reason])
        #expect(try PlainListParser.parse(text, source: "p", policy: FeedPolicy(allowBroad: true)).count == 1)
        #expect(try PlainListParser.parse("::/128\n::1\n::/96\n64:ff9b::/96", source: "p").count == 4)
    }

    @Test func allowBroadAndCustomMinimums() throws {
        let text = "0.0.0.0/0\n::/0\n10.0.0.0/8\n2001:db8::/32\n"
        #expect(try PlainListParser.parse(text, source: "p", policy: FeedPolicy(allowBroad: true)).count == 4)
        // The minimum itself is accepted.
        #expect(try PlainListParser.parse("10.0.0.0/8\n2001:db8::/32", source: "p").count == 2)
        let strictPolicy = FeedPolicy(minimumIPv4PrefixLength: 16, minimumIPv6PrefixLength: 48)
        #expect(
            errorTexts { () throws(FeedRejection) in try PlainListParser.parse(text, source: "p", policy: strictPolicy, mode: .strict) }
                .count == 4)
    }

    @Test func maxEntriesRejectsInAnyModeAndNamesTheCount() throws {
        let text = "192.0.2.1\n192.0.2.2\n192.0.2.2\n192.0.2.3\n192.0.2.4\nbad\n"
        let policy = FeedPolicy(maxEntries: 2)
        for mode in [FeedMode.strict, .lenient] {
            let rejection = try #require(
                rejection { () throws(FeedRejection) in
                    try PlainListParser.parse(text, source: "big.txt", policy: policy, mode: mode)
                })
            #expect(rejection.errors.first?.description == "big.txt:4: feed has 4 entries, more than the maximum of 2")
            #expect(rejection.errorCount == 2)
        }
        // Duplicates do not count towards the limit.
        #expect(try PlainListParser.parse("192.0.2.1\n192.0.2.1\n", source: "d", policy: FeedPolicy(maxEntries: 1)).count == 1)
    }

    @Test func errorTextIsSourceLineReason() {
        #expect(
            FeedError(source: "drop.txt", line: 17, reason: "'300.1.2.3/24' is not an IPv4 address").description
                == "drop.txt:17: '300.1.2.3/24' is not an IPv4 address")
    }
}
