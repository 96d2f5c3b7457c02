import PodwallTestSupport
import Testing
@testable import PodwallCore

@Suite("ParsedFeed")
struct ParsedFeedTests {
    @Test func theInitializerDropsRepeatsAndCountsThem() {
        let feed = ParsedFeed(source: "s", prefixes: prefixes("192.0.2.1", "192.0.2.1", "::1"))
        #expect(feed.prefixes == prefixes("192.0.2.1", "::1") && feed.duplicateCount == 1)
    }
}
