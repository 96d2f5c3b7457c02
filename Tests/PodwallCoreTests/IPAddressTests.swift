import Testing
@testable import PodwallCore

@Suite("IPv4 address text")
struct IPv4AddressTests {
    @Test(arguments: ["0.0.0.0", "1.2.3.4", "10.0.0.1", "192.0.2.1", "255.255.255.255"])
    func acceptsDottedQuads(_ text: String) {
        let address = IPAddress(text)
        #expect(address?.family == .v4)
        #expect(address?.description == text)
    }

    @Test(arguments: [
        "01.2.3.4", "1.2.3.04", "00.0.0.0", "256.1.1.1", "1.2.3.1000", "1.2.3", "1.2.3.4.5", "+1.2.3.4",
        "1..2.3", "1.2.3.", ".1.2.3", "1.2.3.4 ", "1.2.3.a", "0x1.2.3.4", "", "1.2.3.4/32"
    ])
    func rejectsEverythingElse(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func isStoredIPv4Mapped() throws {
        let address = try #require(IPAddress("192.0.2.1"))
        #expect(address.bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1])
        #expect(address.ipv4 == 0xC000_0201)
        #expect(address == IPAddress(ipv4: 0xC000_0201))
        #expect(IPAddress(bytes: address.bytes) == address)
    }

    @Test func singleAddressParseNamesThePrefix() {
        #expect(IPAddress.parse("10.0.0.0/8") == .failure(.notSingleAddress))
        #expect(IPParseError.notSingleAddress.reason(for: "10.0.0.0/8") == "'10.0.0.0/8' is a prefix, not a single address")
    }
}

@Suite("IPv6 address text")
struct IPv6AddressTests {
    @Test(arguments: [
        ("::", "::"),
        ("::1", "::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:DB8::ABCD", "2001:db8::abcd"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("1:0:0:4:0:0:0:8", "1:0:0:4::8"),
        ("fe80::", "fe80::"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("::192.0.2.1", "::c000:201"),
        ("2001:db8:1:2:3:4:192.0.2.1", "2001:db8:1:2:3:4:c000:201")
    ])
    func parsesAndPrintsRFC5952(_ text: String, _ canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == .v6)
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: ["::ffff:192.0.2.1", "::FFFF:c000:0201", "0:0:0:0:0:ffff:192.0.2.1"])
    func mappedTextIsTheIPv4Address(_ text: String) {
        // Same kernel key, so the same value.
        #expect(IPAddress(text) == IPAddress("192.0.2.1"))
        #expect(IPAddress(text)?.family == .v4)
        #expect(Set([prefix(text), prefix("192.0.2.1")]).count == 1)
    }

    @Test(arguments: [
        "1:2:3:4:5:6:7:8:9", "::1::", "12345::", ":::", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "fe80::1%eth0", "2001:db8::g", "::ffff:1.2.3", "::ffff:01.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5", "2001:db8:::1", "[::1]", " ::1", ":", "1:", "::1.2.3.4.5"
    ])
    func rejectsMalformedText(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func bytesAreNetworkOrder() throws {
        let address = try #require(IPAddress("2001:db8::102:304"))
        #expect(address.bytes == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])
        #expect(address.ipv4 == nil)
    }

    @Test func ordersIPv4BeforeIPv6() throws {
        let sorted = ["2001:db8::1", "::1", "192.0.2.1", "10.0.0.1"].compactMap(IPAddress.init).sorted()
        #expect(sorted.map(\.description) == ["10.0.0.1", "192.0.2.1", "::1", "2001:db8::1"])
    }
}

@Suite("Address text round trips")
struct AddressRoundTripTests {
    @Test(arguments: [
        "10.0.0.1", "255.255.255.255", "0.0.0.0", "fd00::1", "2001:db8::", "::", "::1",
        "2001:db8:0:1:1:1:1:1", "fe80::1:0:0:1", "2001:db8::ff00:42:8329"
    ])
    func roundTrip(_ text: String) {
        #expect(IPAddress(text)?.description == text)
    }

    @Test func ipv4IsStoredIPv4Mapped() {
        let address = IPAddress(ipv4: 0x0a01_0203)
        #expect(address.family == .v4)
        #expect(address.bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3])
        #expect(IPAddress("::ffff:10.1.2.3") == address)
        #expect(IPAddress(bytes: address.bytes) == address)
        #expect(IPAddress("2001:0DB8:0000:0000:0000:0000:0000:0001")?.description == "2001:db8::1")
        // From memory (the kernel's records), as from a collection.
        for text in ["2001:db8::1", "::ffff:10.1.2.3", "fe80::1:2:3:4", "::"] {
            let parsed = IPAddress(text)!
            #expect(parsed.bytes.withUnsafeBytes { IPAddress(bytes: $0) } == parsed)
        }
        #expect([UInt8](repeating: 0, count: 4).withUnsafeBytes { IPAddress(bytes: $0) } == nil)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.256", "1..2.3", "::1::", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "1.2.3.4::"])
    func rejects(_ text: String) {
        #expect(IPAddress(text) == nil)
    }
}
