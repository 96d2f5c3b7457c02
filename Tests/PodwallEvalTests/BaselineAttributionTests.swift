import PodwallEval
import Testing

/// The baseline scenarios' runs: a workload known by its pod name only, and
/// one binary that should be reported.
@Suite struct BaselineAttributionTests {
    static let pod = "pod-6098ca8e-8cc8-d66a-b280-87430c51f6d6"
    static let start: Int64 = 1_000_000_000_000

    static func line(_ id: String, binary: String, pod: String = pod, at offset: Int64 = 5_000_000) -> AlertLine {
        AlertLine(
            id: id, kind: "unexpected_process", timeNs: start + offset, sourceAddress: "::", detectionLatencyMs: 2, podName: pod,
            binary: binary)
    }

    static func attribute(_ lines: [AlertLine], expected: String? = "unexpected_process") -> Attribution.Verdict {
        Attribution.attribute(
            lines, startNs: start, expected: expected, attacker: "198.18.0.11", attackerPod: pod,
            expectedBinary: expected == nil ? nil : "uname")
    }

    @Test func theNewBinaryOfTheRunsWorkloadDetectsByPodNameNotAddress() {
        let verdict = Self.attribute([Self.line("up-1", binary: "/usr/bin/uname")])
        #expect(verdict.detection == 0 && verdict.falseAlerts == 0 && verdict.expectedKindAlerts == 1)
    }

    /// A program the workload ran while learning, reported after the window, is a false alert, not the detection.
    @Test func aLearnedProgramReportedIsAFalseAlert() {
        let lines = [Self.line("up-1", binary: "/usr/bin/mkdir"), Self.line("up-2", binary: "/usr/bin/uname", at: 9_000_000)]
        let verdict = Self.attribute(lines)
        #expect(verdict.roles == [.falseAlert, .detection] && verdict.detection == 1)
        #expect(verdict.falseAlerts == 1 && verdict.expectedKindAlerts == 2, "two alerts of the expected kind: not exactly one")
    }

    @Test func anotherPodsAlertIsNotTheRunsDetection() {
        let verdict = Self.attribute([Self.line("up-1", binary: "/usr/bin/uname", pod: "pod-other")])
        #expect(verdict.detection == nil && verdict.falseAlerts == 1 && verdict.expectedKindAlerts == 0)
    }

    @Test func aBenignRunWithAnAlertCountsItFalse() {
        let verdict = Self.attribute([Self.line("up-1", binary: "/usr/bin/sh")], expected: nil)
        #expect(verdict.detection == nil && verdict.falseAlerts == 1)
    }

    /// Under `--load` the attacker pod floods on purpose: its `flood` alert is
    /// the load's, accepted in a workload's run; another pod's flood is not.
    @Test func theLoadsOwnFloodIsAcceptedAndAnotherPodsIsFalse() {
        // As the agent writes them: the address unknown ("::"), the pod's interface named.
        let flood = AlertLine(id: "fl-1", kind: "flood", timeNs: Self.start + 1_000_000, sourceAddress: "::", sourceInterface: "veth-pod1")
        let other = AlertLine(id: "fl-2", kind: "flood", timeNs: Self.start + 2_000_000, sourceAddress: "::", sourceInterface: "veth-pod2")
        let verdict = Attribution.attribute(
            [flood, other, Self.line("up-1", binary: "/usr/bin/uname")], startNs: Self.start, expected: "unexpected_process",
            attacker: "198.18.0.11", attackerPod: Self.pod, expectedBinary: "uname", loadAlerts: ["flood": "veth-pod1"])
        #expect(verdict.roles == [.accepted, .falseAlert, .detection])
        #expect(verdict.acceptedAlerts == 1 && verdict.falseAlerts == 1)
    }

    @Test func theTableCountsRunsWithExactlyOneAlert() {
        var result = ScenarioResult(scenario: "unexpected-binary", expected: "unexpected_process", group: .baseline)
        for lines in [
            [Self.line("up-1", binary: "/usr/bin/uname")], [],
            [Self.line("up-2", binary: "/usr/bin/sh"), Self.line("up-3", binary: "/usr/bin/uname")]
        ] {
            let verdict = Self.attribute(lines)
            result.record(lines, verdict, firstPacketNs: Self.start)
            result.recordBaseline(verdict)
        }
        #expect(result.expectedKindAlerts == [1, 0, 2] && result.detected == 2 && result.falseAlerts == 1)
        let table = EvalStatistics.baselineTable([result, ScenarioResult(scenario: "scan", expected: "port_scan")])
        #expect(table.contains("| unexpected-binary | unexpected_process | 3 | 2 | 0.67 | 1 | 1 of 3 | 2.0 / 2.0 / 2.0 |"), "\(table)")
        #expect(!table.contains("| scan |"))
    }

    /// The agent's line for a relayed shell whose relay the kernel killed at connect() has no kill action.
    @Test func aRelayKilledAtConnectIsReadFromTheEvidence() throws {
        let json: [String: Any] = [
            "id": "rs-1", "kind": "reverse_shell", "time_ns": 5,
            "source": ["address": "198.18.0.11", "pod_name": "pod-a", "process": ["binary": "/usr/bin/sh"]],
            "evidence": ["binary": "/usr/bin/sh", "relay_killed": true, "killed_at_exec": false],
            "actions": [["type": "block", "remote": "198.19.0.2"]]
        ]
        let line = try #require(AlertLine(json: json))
        #expect(line.relayKilled && line.killedAtExec == nil && line.podName == "pod-a" && line.binary == "/usr/bin/sh")
        var result = ScenarioResult(scenario: "revshell-mkfifo-nc", expected: "reverse_shell", group: .process)
        let verdict = Attribution.attribute([line], startNs: 0, expected: "reverse_shell", attacker: "198.18.0.11")
        result.record([line], verdict, firstPacketNs: 0)
        result.recordProcesses([line], verdict, markers: 0)
        #expect(result.relayKilledAtConnect == 1 && result.killedAtExec == 0 && result.killedByAgent == 0)
    }
}
