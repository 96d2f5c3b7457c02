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

    @Test func captureCombinesWithAnyAction() throws {
        #expect(try ResponseOption.parse("exfiltration=block:30m+capture").1 == ResponseRule(blockTTLSeconds: 1800, capture: true))
        #expect(try ResponseOption.parse("port_scan=quarantine+capture").1 == ResponseRule(quarantineTTLSeconds: 600, capture: true))
        #expect(try ResponseOption.parse("protocol_mismatch=capture").1 == ResponseRule(capture: true))
        #expect(try ResponseOption.parse("protocol_mismatch=alert+capture").1 == ResponseRule(capture: true))
    }

    @Test func killIsForKindsJudgedInTheKernel() throws {
        #expect(
            try ResponseOption.parse("reverse_shell=kill+block:24h+capture").1
                == ResponseRule(blockTTLSeconds: 86_400, capture: true, kill: true))
        #expect(try ResponseOption.parse("reverse_shell=alert").1 == .alertOnly)
        let refused = #expect(throws: ResponseOption.Invalid.self) { try ResponseOption.parse("port_scan=kill") }
        #expect(refused?.description.contains("judged in the kernel") == true)
    }

    @Test(arguments: [
        "scan=alert", "port_scan", "port_scan=drop", "port_scan=block:soon", "port_scan=block+captures", "network_tool=kill",
        "reverse_shell=kill+"
    ])
    func mistakesAreRefused(text: String) {
        #expect(throws: ResponseOption.Invalid.self) { try ResponseOption.parse(text) }
    }
}
