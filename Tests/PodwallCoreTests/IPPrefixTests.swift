import Testing
@testable import PodwallCore

@Suite("IPPrefix")
struct IPPrefixTests {
    @Test(arguments: [
        ("10.0.0.0/8", IPFamily.v4, 8, 104),
        ("192.0.2.1", .v4, 32, 128),
        ("0.0.0.0/0", .v4, 0, 96),
        ("2001:db8::/32", .v6, 32, 32),
        ("2001:db8::1", .v6, 128, 128),
        ("::/0", .v6, 0, 0),
        ("::ffff:192.0.2.0/120", .v4, 24, 120)
    ])
    func lengthsInBothSpaces(_ text: String, _ family: IPFamily, _ length: Int, _ mapped: Int) throws {
        let parsed = try #require(IPPrefix(text))
        #expect(parsed.family == family)
        #expect(parsed.length == length)
        #expect(parsed.mappedPrefixLength == mapped)
        #expect(parsed.isSingleAddress == (mapped == 128))
    }

    @Test(arguments: [
        ("192.0.2.1/32", "192.0.2.1"),
        ("198.51.100.0/24", "198.51.100.0/24"),
        ("2001:DB8:0:0::/64", "2001:db8::/64"),
        ("2001:db8::1/128", "2001:db8::1"),
        ("::ffff:198.51.100.0/120", "198.51.100.0/24"),
        ("::/0", "::/0")
    ])
    func canonicalDescription(_ text: String, _ canonical: String) throws {
        let parsed = try #require(IPPrefix(text))
        #expect(parsed.description == canonical)
        #expect(IPPrefix(canonical) == parsed)
    }

    @Test(arguments: [
        ("300.1.2.3/24", "'300.1.2.3/24' is not an IPv4 address"),
        ("1.2.3.0/33", "'1.2.3.0/33' has prefix length 33, IPv4 allows 0-32"),
        ("2001:db8::/129", "'2001:db8::/129' has prefix length 129, IPv6 allows 0-128"),
        ("::ffff:1.2.3.0/129", "'::ffff:1.2.3.0/129' has prefix length 129, IPv6 allows 0-128"),
        ("10.1.2.3/8", "'10.1.2.3/8' has host bits set"),
        ("2001:db8::1/32", "'2001:db8::1/32' has host bits set"),
        ("1.2.3.0/", "'1.2.3.0/' has an invalid prefix length"),
        ("1.2.3.0/x", "'1.2.3.0/x' has an invalid prefix length"),
        ("10.0.0.0/08", "'10.0.0.0/08' has an invalid prefix length"),
        ("1.2.3.0/-1", "'1.2.3.0/-1' has an invalid prefix length"),
        ("1.2.3.0/24/24", "'1.2.3.0/24/24' has an invalid prefix length"),
        ("1.2.3.0/1000", "'1.2.3.0/1000' has an invalid prefix length"),
        ("::1::/64", "'::1::/64' is not an IPv6 address"),
        ("example.com", "'example.com' is not an IPv4 address"),
        ("localhost", "'localhost' is not an IP address or prefix"),
        ("/24", "'/24' is not an IP address or prefix")
    ])
    func errorReasonsNameTheToken(_ text: String, _ reason: String) {
        guard case .failure(let error) = IPPrefix.parse(text) else {
            Issue.record("'\(text)' parsed")
            return
        }
        #expect(error.reason(for: text) == reason)
    }

    @Test func hostBitsAreRefusedNamingThePrefixMeant() {
        #expect(IPPrefix.parse("10.1.2.3/16") == .failure(.hostBitsSet(masked: prefix("10.1.0.0/16"))))
        #expect(
            IPParseError.hostBitsSet(masked: prefix("10.1.0.0/16")).explanation(for: "10.1.2.3/16")
                == "'10.1.2.3/16' has host bits set; did you mean 10.1.0.0/16?")
        #expect(IPParseError.invalidPrefixLength.explanation(for: "10.0.0.0/x") == "'10.0.0.0/x' has an invalid prefix length")
    }

    @Test func checkedInitRefusesHostBitsAndRange() throws {
        let address = try #require(IPAddress("10.1.2.3"))
        #expect(throws: IPParseError.hostBitsSet(masked: prefix("10.0.0.0/8"))) { try IPPrefix(address: address, length: 8) }
        #expect(throws: IPParseError.prefixLengthOutOfRange(length: 33, family: .v4)) {
            try IPPrefix(address: address, length: 33)
        }
        #expect(try IPPrefix(address: address, length: 32) == IPPrefix(host: address))
        #expect(IPPrefix(containing: address, length: 8) == prefix("10.0.0.0/8"))
    }

    @Test func containsAddresses() throws {
        let network = prefix("198.51.100.0/24")
        #expect(network.contains(try #require(IPAddress("198.51.100.77"))))
        #expect(!network.contains(try #require(IPAddress("198.51.101.1"))))
        #expect(prefix("2001:db8::/32").contains(try #require(IPAddress("2001:db8:ffff::1"))))
        // In the IPv4-mapped key space ::/0 covers IPv4 too (see FeedPolicy).
        #expect(prefix("::/0").contains(try #require(IPAddress("192.0.2.1"))))
        #expect(!prefix("2001:db8::/32").contains(try #require(IPAddress("192.0.2.1"))))
    }

    @Test func containmentAsTheDetectorsAskIt() throws {
        let ten = prefix("10.0.0.0/8")
        #expect(ten.contains(try #require(IPAddress("10.200.1.1"))))
        #expect(!ten.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!prefix("0.0.0.0/0").contains(try #require(IPAddress("fd00::1"))))
        #expect(prefix("0.0.0.0/0").contains(try #require(IPAddress("8.8.8.8"))))
        #expect(prefix("fd00::/8").contains(try #require(IPAddress("fdab::1"))))
        #expect(prefix("10.1.2.3").length == 32)
        #expect(IPPrefix("10.0.0.0/33") == nil)
        #expect([prefix("192.168.0.0/16"), ten].anyContains(try #require(IPAddress("192.168.4.4"))))
    }

    @Test func sortsByFamilyAddressThenLength() {
        let sorted = prefixes("2001:db8::/32", "10.0.0.0/16", "10.0.0.0/8", "192.0.2.1", "::1").sorted()
        #expect(sorted.map(\.description) == ["10.0.0.0/8", "10.0.0.0/16", "192.0.2.1", "::1", "2001:db8::/32"])
    }

    @Test func parsesFromUTF8Bytes() {
        let bytes = Array("203.0.113.0/24".utf8)
        let parsed = bytes.withUnsafeBufferPointer { IPPrefix.parse(utf8: $0) }
        #expect(parsed == .success(prefix("203.0.113.0/24")))
    }
}
