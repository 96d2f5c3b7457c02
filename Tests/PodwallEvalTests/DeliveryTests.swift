import Foundation
import PodwallCore
import PodwallEval
import Testing

/// Counting the attacker's packets that got through after the response, from
/// what the target's tap recorded (no root: frames are built here).
@Suite struct DeliveryTests {
    static let attacker = IPAddress("198.18.0.11")!
    static let victim = IPAddress("198.18.0.12")!

    static func flow(_ sourcePort: UInt16, _ destinationPort: UInt16, proto: UInt8 = 6) -> Delivery.Flow {
        Delivery.Flow(source: attacker, destination: victim, proto: proto, sourcePort: sourcePort, destinationPort: destinationPort)
    }

    static func at(_ ns: Int64, _ flow: Delivery.Flow) -> Delivery.Arrival { Delivery.Arrival(timeNs: ns, flow: flow) }

    @Test func aBlockCountsEveryPacketFromTheMomentItIsInForce() {
        let arrivals = [
            Self.at(900, Self.flow(40000, 80)), Self.at(1000, Self.flow(40000, 80)), Self.at(1001, Self.flow(40000, 80)),
            Self.at(2000, Self.flow(40001, 80))
        ]
        let outcome = Delivery.outcome(arrivals, response: .block, inForceNs: 1000)
        #expect(outcome == Delivery.Outcome(received: 4, afterResponse: 3, lastArrivalMs: 0.001))
        // Nothing after: the last packet came before the block.
        let early = Delivery.outcome(Array(arrivals.prefix(1)), response: .block, inForceNs: 3_000_900)
        #expect(early.afterResponse == 0 && early.lastArrivalMs == -3)
    }

    @Test func aQuarantineLetsFlowsOpenedBeforeItFinish() {
        let old = Self.flow(40000, 22), new = Self.flow(40000, 23), newer = Self.flow(40002, 80, proto: 17)
        let arrivals = [
            Self.at(100, old), Self.at(999, Self.flow(40000, 21)),
            Self.at(1500, old),  // an established flow finishing: allowed
            Self.at(1000, new), Self.at(1200, new),  // a flow that started at the moment: counted
            Self.at(5000, newer)
        ]
        let outcome = Delivery.outcome(arrivals, response: .quarantine, inForceNs: 1000)
        #expect(outcome.received == 6 && outcome.afterResponse == 3)
        #expect(outcome.lastArrivalMs == 0.004)
    }

    @Test func theClockAllowanceOnlyEverCountsMore() {
        let arrivals = [Self.at(990, Self.flow(1, 2)), Self.at(1010, Self.flow(3, 4))]
        #expect(Delivery.outcome(arrivals, response: .block, inForceNs: 1000).afterResponse == 1)
        #expect(Delivery.outcome(arrivals, response: .block, inForceNs: 1000, clockUncertaintyNs: 10).afterResponse == 2)
        #expect(Delivery.outcome(arrivals, response: .quarantine, inForceNs: 1000, clockUncertaintyNs: 10).afterResponse == 2)
        #expect(Delivery.outcome(arrivals, response: .block, inForceNs: 1000, clockUncertaintyNs: -50).afterResponse == 1)
    }

    @Test func aDestinationBlockedFromTheStartCountsEveryPacket() {
        let outcome = Delivery.outcome(
            [Self.at(5, Self.flow(1, 8088)), Self.at(7, Self.flow(1, 8088))], response: .blockedFromStart,
            inForceNs: .max)
        #expect(outcome == Delivery.Outcome(received: 2, afterResponse: 2, lastArrivalMs: nil))
        #expect(
            Delivery.outcome([], response: .blockedFromStart, inForceNs: 0)
                == Delivery.Outcome(received: 0, afterResponse: 0, lastArrivalMs: nil))
        #expect(Delivery.outcome([], response: .quarantine, inForceNs: 0).lastArrivalMs == nil)
    }

    @Test func laterFragmentsBelongToTheirFirstFragmentsFlow() throws {
        func frame(_ ns: Int64, offset: UInt16, more: Bool, id: UInt16, ports: (UInt16, UInt16)? = (45000, 443)) -> Delivery.Frame? {
            let builder = PacketBuilder(
                network: .ipv4(
                    source: PacketBuilder.v4("198.18.0.11"), destination: PacketBuilder.v4("198.18.0.12"),
                    fragmentOffset: offset, moreFragments: more, identification: id),
                transport: offset == 0 ? .tcp(source: ports!.0, destination: ports!.1, flags: 0x02) : .raw(proto: 6),
                payload: offset == 0 ? [] : [1, 2, 3, 4, 5, 6, 7, 8])
            let bytes = builder.build()
            return bytes.withUnsafeBytes { Delivery.frame($0, linkType: .ethernet, wireLength: bytes.count, timeNs: ns) }
        }
        let first = try #require(frame(100, offset: 0, more: true, id: 7))
        let second = try #require(frame(101, offset: 8, more: true, id: 7))
        let orphan = try #require(frame(2000, offset: 8, more: false, id: 9))
        let whole = try #require(frame(102, offset: 0, more: false, id: 8, ports: (45001, 80)))
        #expect(first.flow == Self.flow(45000, 443) && first.fragment?.id == 7 && first.fragment?.later == false)
        #expect(second.flow.sourcePort == 0 && second.fragment?.later == true)
        #expect(whole.fragment == nil && whole.flow == Self.flow(45001, 80))
        let arrivals = Delivery.arrivals([first, second, whole, orphan])
        #expect(
            arrivals.map(\.flow) == [
                Self.flow(45000, 443), Self.flow(45000, 443), Self.flow(45001, 80),
                Delivery.Flow(
                    source: Self.attacker, destination: Self.victim, proto: 6, sourcePort: 0,
                    destinationPort: 0, orphanFragment: 9)
            ])
        // Quarantined at 1000: the fragments of a datagram from before belong to
        // its flow; a later fragment whose first never arrived is a new flow.
        #expect(Delivery.outcome(arrivals, response: .quarantine, inForceNs: 1000).afterResponse == 1)
        // The identification of a datagram from long before, reused: not that datagram's fragment.
        let reused = try #require(frame(100 + Delivery.fragmentWindowNs + 1, offset: 8, more: false, id: 7))
        #expect(Delivery.arrivals([first, reused]).last?.flow.orphanFragment == 7)
        #expect(Delivery.outcome(Delivery.arrivals([first, reused]), response: .quarantine, inForceNs: 1000).afterResponse == 1)
    }

    @Test func notIPIsNotAPacket() {
        let arp: [UInt8] = [UInt8](repeating: 0xff, count: 6) + [2, 0, 0, 0, 0, 1] + [0x08, 0x06] + [UInt8](repeating: 0, count: 28)
        #expect(arp.withUnsafeBytes { Delivery.frame($0, linkType: .ethernet, wireLength: arp.count, timeNs: 1) } == nil)
    }

    @Test func theResponseIsInForceAtTheDecisionPlusTheResponseLatency() throws {
        func line(_ json: String) throws -> AlertLine {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            return try #require(object.flatMap(AlertLine.init(json:)))
        }
        let inForce = Delivery.inForce(
            try line(
                #"{"id":"ps-1","kind":"port_scan","time_ns":1796170000123456789,"detection_latency_ms":0.2,"response_latency_ms":0.412345}"#
            ))
        #expect(inForce.ns == 1_796_170_000_123_869_134 && inForce.enforced)
        // Nothing enforced: the decision itself, which counts more, not fewer.
        let bare = Delivery.inForce(try line(#"{"id":"ps-1","kind":"port_scan","time_ns":1796170000123456789}"#))
        #expect(bare.ns == 1_796_170_000_123_456_789 && !bare.enforced)
    }

    @Test func theTableShowsWhatGotThroughOverWhatArrived() throws {
        var scan = ScenarioResult(scenario: "scan", expected: "port_scan")
        scan.response = .quarantine
        scan.runs = 3
        scan.detected = 2
        scan.record(Delivery.Outcome(received: 40, afterResponse: 0, lastArrivalMs: 2), tapDrops: 0, clockUncertaintyNs: 1_500)
        scan.record(Delivery.Outcome(received: 35, afterResponse: 1, lastArrivalMs: nil), tapDrops: 2, clockUncertaintyNs: 1_000)
        scan.unmeasured = ["run 3: no alert, so no response"]
        #expect(scan.deliveryCell == "1 / 75 (2 of 3 runs) (tap dropped 2)")
        var benign = ScenarioResult(scenario: "http", expected: nil)
        benign.runs = 3
        #expect(benign.deliveryCell == "-")
        let table = EvalStatistics.table([scan, benign])
        #expect(table.contains("| scan | port_scan | 3 | 2 | 0.67 | 0 | 0 | 1 / 75 (2 of 3 runs) (tap dropped 2) |"))
        #expect(table.contains("| http | none | 3 | 0 | - | 0 | 0 | - |"))
        #expect(
            table.contains(
                "After response: 1 of the attacker's packets arrived at the target after the response was in force, over 2 measured runs"))
        #expect(table.contains("clock allowance ≤ 1.5 µs"))
        let json = String(decoding: try JSONEncoder().encode(scan), as: UTF8.self)
        #expect(
            json.contains(#""delivered_after_response":[0,1]"#) && json.contains(#""response":"quarantine""#)
                && json.contains(#""last_arrival_after_response_ms":[2,null]"#))
    }
}
