import PodwallAgent
import PodwallDetection
import Testing

@Suite struct ResponseOptionTests {
    @Test func actionsAndTTLs() throws {
        #expect(try ResponseOption.parse("port_scan=alert").1 == .alertOnly)
        #expect(try ResponseOption.parse("exfiltration=block:30m").1 == ResponseRule(blockTTLSeconds: 1800))
        #expect(try ResponseOption.parse("protocol_mismatch=quarantine").1 == ResponseRule(quarantineTTLSeconds: 600))
        #expect(try ResponseOption.parse("port_scan=quarantine:1h").0 == .portScan)
    }

    @Test(arguments: ["scan=alert", "port_scan", "port_scan=drop", "port_scan=block:soon"])
    func mistakesAreRefused(text: String) {
        #expect(throws: ResponseOption.Invalid.self) { try ResponseOption.parse(text) }
    }
}
