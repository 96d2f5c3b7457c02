import PodwallTestSupport
import Testing
@testable import PodwallCore

@Suite("BlocklistSet")
struct BlocklistSetTests {
    static func feed(_ name: String, _ texts: String...) -> ParsedFeed {
        ParsedFeed(source: name, prefixes: texts.map(prefix))
    }

    @Test func anEntryStaysUntilEveryFeedDropsIt() {
        var set = BlocklistSet()
        let first = set.replaceFeed("spamhaus", with: Self.feed("spamhaus", "1.10.16.0/20", "192.0.2.1"))
        #expect(first == BlocklistDiff(additions: prefixes("192.0.2.1", "1.10.16.0/20").sorted()))
        let second = set.replaceFeed("feodo", with: Self.feed("feodo", "192.0.2.1", "203.0.113.7"))
        #expect(second == BlocklistDiff(additions: prefixes("203.0.113.7")))
        #expect(set.feeds(listing: prefix("192.0.2.1")) == ["feodo", "spamhaus"])
        #expect(set.count == 3)

        let dropped = set.replaceFeed("spamhaus", with: Self.feed("spamhaus", "1.10.16.0/20"))
        #expect(dropped.isEmpty)  // feodo still lists 192.0.2.1
        #expect(set.feeds(listing: prefix("192.0.2.1")) == ["feodo"])

        let removed = set.removeFeed("feodo")
        #expect(removed == BlocklistDiff(deletions: prefixes("192.0.2.1", "203.0.113.7")))
        #expect(set.desired == Set(prefixes("1.10.16.0/20")))
        #expect(set.feedNames == ["spamhaus"])
        #expect(set.removeFeed("unknown").isEmpty)
    }

    @Test func dynamicEntriesExpireWithInjectedClock() {
        var set = BlocklistSet()
        let firstAdded = set.addDynamic(prefix("192.0.2.10"), expires: 100, reason: "crowdsecurity/ssh-bf")
        let secondAdded = set.addDynamic(prefix("198.51.100.0/24"), expires: 200, reason: "manual")
        // A shorter second decision does not shorten the first.
        let shorterAdded = set.addDynamic(prefix("192.0.2.10"), expires: 50, reason: "other")
        #expect(firstAdded && secondAdded && !shorterAdded)
        #expect(set.dynamicEntry(for: prefix("192.0.2.10"))?.expires == 100)
        #expect(set.nextExpiry == 100)

        #expect(set.expire(now: 99).isEmpty)
        #expect(set.expire(now: 100) == prefixes("192.0.2.10"))
        #expect(set.nextExpiry == 200)
        #expect(set.expire(now: 1_000) == prefixes("198.51.100.0/24"))
        #expect(set.desired.isEmpty && set.nextExpiry == nil)
    }

    @Test func feedListingOutlivesDynamicEntry() {
        var set = BlocklistSet()
        set.replaceFeed("feodo", with: Self.feed("feodo", "192.0.2.1"))
        let alreadyListed = !set.addDynamic(prefix("192.0.2.1"), expires: 10, reason: "ssh-bf")
        #expect(alreadyListed)
        #expect(set.expire(now: 10).isEmpty)  // still listed by feodo
        #expect(set.contains(prefix("192.0.2.1")))

        let added = set.addDynamic(prefix("192.0.2.2"), expires: 10, reason: "ssh-bf")
        #expect(added)
        #expect(set.replaceFeed("feodo", with: Self.feed("feodo", "192.0.2.2")) == BlocklistDiff(deletions: prefixes("192.0.2.1")))
        let stillListed = !set.removeDynamic(prefix("192.0.2.2"))  // feodo lists it now
        let unknown = !set.removeDynamic(prefix("203.0.113.1"))
        #expect(stillListed && unknown)
    }

    @Test func appliesCrowdSecPollsDeletionsFirst() throws {
        var set = BlocklistSet()
        let first = try CrowdSecStreamParser.parse(CrowdSecStreamParserTests.stream, source: "lapi")
        let diff = set.apply(first, now: 1_000)
        #expect(diff == BlocklistDiff(additions: prefixes("192.0.2.10", "198.51.100.0/24", "2001:db8::1")))
        #expect(set.dynamicEntry(for: prefix("192.0.2.10")) == .init(expires: 1_000 + 4 * 3600, reason: "crowdsecurity/http-bf"))

        let replaced = try CrowdSecStreamParser.parse("""
            {"deleted":[{"scope":"Ip","value":"192.0.2.10"},{"scope":"Range","value":"198.51.100.0/24"}],
             "new":[{"scope":"Ip","value":"192.0.2.10","duration":"10s","scenario":"again"}]}
            """, source: "lapi")
        #expect(set.apply(replaced, now: 2_000) == BlocklistDiff(deletions: prefixes("198.51.100.0/24")))
        #expect(set.dynamicEntry(for: prefix("192.0.2.10"))?.expires == 2_010)
    }

    @Test func kernelDiffAddsMissingAndDeletesStale() {
        var set = BlocklistSet()
        set.replaceFeed("a", with: Self.feed("a", "192.0.2.0/24", "2001:db8::/32", "203.0.113.7"))
        let kernel = Set(prefixes("192.0.2.1", "192.0.2.0/24", "198.51.100.9"))
        let diff = set.diff(fromKernel: kernel)
        #expect(diff.additions == prefixes("203.0.113.7", "2001:db8::/32"))
        #expect(diff.deletions == prefixes("192.0.2.1", "198.51.100.9"))
        // Applying it (additions, then deletions) reaches the desired set.
        let applied = kernel.union(diff.additions).subtracting(diff.deletions)
        #expect(applied == set.desired)
        #expect(BlocklistDiff.diff(from: applied, to: set.desired).isEmpty)
    }

    @Test func randomDiffsAlwaysReachTheTarget() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<200 {
            let pool = (0..<40).map { _ in RoundTripPropertyTests.randomPrefix(&rng) }
            let old = Set(pool.filter { _ in rng.next() % 2 == 0 })
            let new = Set(pool.filter { _ in rng.next() % 2 == 0 })
            let diff = BlocklistDiff.diff(from: old, to: new)
            #expect(old.union(diff.additions).subtracting(diff.deletions) == new)
            #expect(Set(diff.additions).isDisjoint(with: old) && Set(diff.deletions).isSubset(of: old))
            // Nothing still desired is ever deleted.
            #expect(Set(diff.deletions).isDisjoint(with: new))
        }
    }

    @Test func splitsSingleAddressesFromNetworks() {
        let split = PrefixSplit(prefixes("192.0.2.1", "192.0.2.0/24", "2001:db8::1", "2001:db8::/48", "10.0.0.0/31"))
        #expect(split.singleAddresses == prefixes("192.0.2.1", "2001:db8::1"))
        #expect(split.networks == prefixes("192.0.2.0/24", "2001:db8::/48", "10.0.0.0/31"))
    }

    @Test func parsedFeedInitDeduplicates() {
        let feed = ParsedFeed(source: "s", prefixes: prefixes("192.0.2.1", "192.0.2.1", "::1"))
        #expect(feed.prefixes == prefixes("192.0.2.1", "::1") && feed.duplicateCount == 1)
    }
}
