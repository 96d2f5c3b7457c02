import PodwallEval
import Testing

@Suite struct AttributionTests {
    static let attacker = "198.18.0.11"
    static let start: Int64 = 1_000_000_000_000

    static func line(
        _ id: String, _ kind: String, update: Bool = false, at timeNs: Int64, lastSeen: Int64? = nil,
        source: String = attacker, remote: String? = nil, quarantined: Bool = false, blocked: [String] = []
    ) -> AlertLine {
        AlertLine(
            id: id, kind: kind, isUpdate: update, timeNs: timeNs, lastSeenNs: lastSeen, sourceAddress: source,
            sourceInterface: "veth-pod1", remote: remote, quarantined: quarantined, blocked: blocked)
    }

    @Test func aFreshAlertOfTheExpectedKindFromTheAttackerIsTheDetection() {
        let lines = [
            Self.line("ps-1", "port_scan", at: Self.start + 5_000_000, quarantined: true),
            Self.line("qd-1", "quarantine_drop", at: Self.start + 9_000_000),
            Self.line("ps-1", "port_scan", update: true, at: Self.start + 5_000_000, lastSeen: Self.start + 20_000_000)
        ]
        let verdict = Attribution.attribute(lines, startNs: Self.start, expected: "port_scan", attacker: Self.attacker)
        #expect(verdict.detection == 0 && verdict.roles == [.detection, .followUp, .repeats])
        #expect(verdict.followUps == 1 && verdict.falseAlerts == 0 && verdict.earlierLines == 0)
    }

    /// A second scan inside the agent's dedup window is an update of the
    /// first scan's alert, and re-applies the released quarantine.
    @Test func anUpdateOfAnEarlierAlertDecidedDuringTheScenarioDetects() {
        let earlier = Self.start - 30_000_000_000
        let lines = [Self.line("ps-1", "port_scan", update: true, at: earlier, lastSeen: Self.start + 400_000_000, quarantined: true)]
        let verdict = Attribution.attribute(lines, startNs: Self.start, expected: "port_scan", attacker: Self.attacker)
        #expect(verdict.detection == 0 && verdict.falseAlerts == 0)
    }

    /// The case that would otherwise count against a benign scenario: the
    /// coalesced update of an earlier incident, flushed up to an update
    /// interval after its last repeat, is written during the next scenario.
    @Test func lateUpdatesOfAnEarlierIncidentAreCountedForNoOne() {
        let earlier = Self.start - 12_000_000_000
        let lines = [
            Self.line("qd-1", "quarantine_drop", update: true, at: earlier, lastSeen: Self.start - 2_000_000_000),
            Self.line("pm-1", "protocol_mismatch", update: true, at: earlier, lastSeen: Self.start - 1),
            Self.line("ex-1", "exfiltration", at: Self.start - 500)
        ]
        let verdict = Attribution.attribute(lines, startNs: Self.start, expected: nil, attacker: Self.attacker)
        #expect(verdict.roles == [.earlier, .earlier, .earlier])
        #expect(verdict.falseAlerts == 0 && verdict.earlierLines == 3 && verdict.detection == nil)
        // Nor is it the detection of a later attack of the same kind.
        let attack = Attribution.attribute(lines, startNs: Self.start, expected: "protocol_mismatch", attacker: Self.attacker)
        #expect(attack.detection == nil)
    }

    /// The nc of `mkfifo` + `nc` is a network tool too: its alert is by
    /// design, counted apart; the same kind from another pod is still false.
    @Test func anAcceptedKindFromTheAttackerIsCountedApartNotFalse() {
        let lines = [
            Self.line("nt-1", "network_tool", at: Self.start + 1_000),
            Self.line("rs-1", "reverse_shell", at: Self.start + 2_000),
            Self.line("nt-2", "network_tool", at: Self.start + 3_000, source: "198.18.0.12")
        ]
        let verdict = Attribution.attribute(
            lines, startNs: Self.start, expected: "reverse_shell", attacker: Self.attacker, accepted: ["network_tool"])
        #expect(verdict.roles == [.accepted, .detection, .falseAlert] && verdict.detection == 1)
        #expect(verdict.acceptedAlerts == 1 && verdict.falseAlerts == 1)
    }

    @Test func anythingDecidedDuringABenignScenarioIsFalseOncePerIncident() {
        let lines = [
            Self.line("pm-2", "protocol_mismatch", at: Self.start + 1_000, blocked: ["198.18.0.13"]),
            Self.line("pm-2", "protocol_mismatch", update: true, at: Self.start + 1_000, lastSeen: Self.start + 9_000),
            Self.line("ps-1", "port_scan", update: true, at: Self.start - 40_000_000_000, lastSeen: Self.start + 2_000)
        ]
        let verdict = Attribution.attribute(lines, startNs: Self.start, expected: nil, attacker: Self.attacker)
        #expect(verdict.roles == [.falseAlert, .repeats, .falseAlert] && verdict.falseAlerts == 2)
    }

    @Test func dropsAreFollowUpsOnlyOfAResponseThisScenarioTook() {
        let hit = Self.line("bl-1", "blocklist_hit", at: Self.start + 2_000, remote: "198.19.0.2")
        let drop = Self.line("qd-1", "quarantine_drop", at: Self.start + 3_000)
        let mismatch = Self.line("pm-1", "protocol_mismatch", at: Self.start + 1_000, blocked: ["198.19.0.2"])
        let attack = Attribution.attribute([mismatch, hit], startNs: Self.start, expected: "protocol_mismatch", attacker: Self.attacker)
        #expect(attack.roles == [.detection, .followUp] && attack.followUps == 1 && attack.falseAlerts == 0)
        // The agent writes a line once its response is in force: the first drop may be written before it.
        let dropFirst = Attribution.attribute([hit, mismatch], startNs: Self.start, expected: "protocol_mismatch", attacker: Self.attacker)
        #expect(dropFirst.roles == [.followUp, .detection] && dropFirst.falseAlerts == 0)
        // Without that response in the scenario, the same lines hurt benign traffic.
        let benign = Attribution.attribute([hit, drop], startNs: Self.start, expected: nil, attacker: Self.attacker)
        #expect(benign.falseAlerts == 2 && benign.followUps == 0)
    }

    @Test func theExpectedKindFromAnotherPodIsFalse() {
        let lines = [Self.line("ps-9", "port_scan", at: Self.start + 1, source: "198.18.0.14")]
        let verdict = Attribution.attribute(lines, startNs: Self.start, expected: "port_scan", attacker: Self.attacker)
        #expect(verdict.detection == nil && verdict.falseAlerts == 1)
    }

    @Test func aLineIsReadFromTheAgentsJSON() throws {
        let json: [String: Any] = [
            "id": "ps-1", "kind": "port_scan", "is_update": true, "time_ns": 1_000, "last_seen_ns": 5_000,
            "source": ["address": Self.attacker, "interface": "veth-pod1"],
            "actions": [
                ["type": "quarantine", "pod": Self.attacker, "ifindex": 4, "ttl_seconds": 3600],
                ["type": "block", "remote": "198.19.0.2", "ttl_seconds": 3600]
            ],
            "evidence": ["type": "port_scan"], "detection_latency_ms": 0.5
        ]
        let line = try #require(AlertLine(json: json))
        #expect(line.occurrenceNs == 5_000 && line.quarantined && line.blocked == ["198.19.0.2"] && line.sourceInterface == "veth-pod1")
        #expect(line.enforced && line.responseLatencyMs == nil)
        // An update that enforced nothing new: its response counts from its decision.
        #expect(Delivery.inForce(line) == (5_000, false))
        var reapplied = line
        reapplied.responseLatencyMs = 0.002
        #expect(Delivery.inForce(reapplied) == (7_000, true), "a re-applied response is timed from the update's newest occurrence")
        var fresh = line
        fresh.isUpdate = false
        fresh.responseLatencyMs = 0.002
        #expect(Delivery.inForce(fresh) == (3_000, true))
        #expect(AlertLine(json: ["kind": "port_scan"]) == nil)
    }
}

@Suite struct AlertsFileSummaryTests {
    static let interval: Int64 = 10_000_000_000

    static func line(_ id: String, update: Bool = false, at: Int64, lastSeen: Int64? = nil, quarantined: Bool = false) -> AlertLine {
        AlertLine(id: id, kind: "quarantine_drop", isUpdate: update, timeNs: at, lastSeenNs: lastSeen, quarantined: quarantined)
    }

    @Test func coalescedUpdatesWithinOnePerIntervalAreWithinTheBound() {
        // 35 s of drops: the first line, updates at 10, 20, 30 s and the flush after the last repeat.
        var lines = [Self.line("qd-1", at: 0)]
        lines += (1...4).map { Self.line("qd-1", update: true, at: 0, lastSeen: min(Int64($0) * Self.interval, 35_000_000_000)) }
        lines.append(Self.line("ps-1", at: 1))
        // Re-applying a released quarantine goes out at once: not bounded by the interval.
        lines += (1...3).map { Self.line("ps-1", update: true, at: 1, lastSeen: Int64($0), quarantined: true) }
        let summary = AlertsFileSummary(lines, updateIntervalNs: Self.interval)
        #expect(summary.lines == 9 && summary.alerts == 2 && summary.updates == 7 && summary.responseUpdates == 3)
        #expect(summary.maxLinesPerAlert == 5 && summary.overBound.isEmpty)
        #expect(summary.sentence.contains("9 lines for 2 alerts") && summary.sentence.contains("every alert within"))
    }

    @Test func anAlertWithMoreUpdatesThanItsLifetimeAllowsIsNamed() {
        let lines = [Self.line("qd-1", at: 0)] + (1...5).map { Self.line("qd-1", update: true, at: 0, lastSeen: Int64($0) * 1_000_000_000) }
        let summary = AlertsFileSummary(lines, updateIntervalNs: Self.interval)
        #expect(AlertsFileSummary.allowedUpdates(spanNs: 5_000_000_000, intervalNs: Self.interval) == 2)
        #expect(summary.overBound == ["qd-1"] && summary.sentence.contains("1 alerts above"))
    }
}
