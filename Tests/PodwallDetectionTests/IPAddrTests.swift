import Testing
@testable import PodwallDetection

@Suite("Addresses and prefixes")
struct IPAddrTests {
    @Test("text round-trips", arguments: [
        "10.0.0.1", "255.255.255.255", "0.0.0.0", "fd00::1", "2001:db8::", "::", "::1",
        "2001:db8:0:1:1:1:1:1", "fe80::1:0:0:1", "2001:db8::ff00:42:8329",
    ])
    func roundTrip(_ text: String) {
        #expect(IPAddr(text)?.description == text)
    }

    @Test("IPv4 is stored IPv4-mapped")
    func mapped() {
        let address = IPAddr(10, 1, 2, 3)
        #expect(address.isIPv4)
        #expect(address.bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3])
        #expect(IPAddr("::ffff:10.1.2.3") == address)
        #expect(IPAddr(bytes: [10, 1, 2, 3]) == address)
        #expect(IPAddr(bytes: address.bytes) == address)
        #expect(IPAddr("2001:0DB8:0000:0000:0000:0000:0000:0001")?.description == "2001:db8::1")
    }

    @Test("malformed text is rejected", arguments: ["", "1.2.3", "1.2.3.256", "1..2.3", "::1::", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "1.2.3.4::"])
    func rejects(_ text: String) {
        #expect(IPAddr(text) == nil)
    }

    @Test("prefix containment")
    func prefixes() {
        let ten = IPPrefix("10.0.0.0/8")!
        #expect(ten.contains(ip("10.200.1.1")))
        #expect(!ten.contains(ip("11.0.0.1")))
        #expect(!IPPrefix("0.0.0.0/0")!.contains(ip("fd00::1")))
        #expect(IPPrefix("0.0.0.0/0")!.contains(ip("8.8.8.8")))
        #expect(IPPrefix("fd00::/8")!.contains(ip("fdab::1")))
        #expect(IPPrefix("10.1.2.3/16")?.description == "10.1.0.0/16")
        #expect(IPPrefix("10.1.2.3")?.length == 32)
        #expect(IPPrefix("10.0.0.0/33") == nil)
        #expect([IPPrefix("192.168.0.0/16")!, ten].anyContains(ip("192.168.4.4")))
    }

    @Test("the pure-Swift logarithm matches known values")
    func logarithm() {
        #expect(abs(naturalLog(4) - 1.386_294_361_119_890_6) < 1e-15)
        #expect(abs(naturalLog(0.25) + 1.386_294_361_119_890_6) < 1e-15)
        #expect(abs(naturalLog(99) - 4.595_119_850_134_59) < 1e-13)
        #expect(abs(naturalLog(1)) < 1e-15)
    }
}
