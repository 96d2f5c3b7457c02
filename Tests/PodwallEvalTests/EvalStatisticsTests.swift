import PodwallEval
import Testing

@Suite struct EvalStatisticsTests {
    @Test func nearestRankPercentiles() {
        let values = (1...100).map(Double.init)
        #expect(EvalStatistics.percentile(values, 50) == 50)
        #expect(EvalStatistics.percentile(values, 99) == 99)
        #expect(EvalStatistics.percentile([7], 99) == 7)
        #expect(EvalStatistics.percentile([], 50) == nil)
        #expect(EvalStatistics.mean([1, 2, 3]) == 2)
    }

    @Test func recallAndPrecision() {
        var scan = ScenarioResult(scenario: "scan", expected: "port_scan")
        scan.runs = 20
        scan.detected = 19
        var benign = ScenarioResult(scenario: "http", expected: nil)
        benign.runs = 20
        benign.falseAlerts = 1
        #expect(scan.recall == 0.95 && benign.recall == nil)
        #expect(EvalStatistics.precision([scan, benign]) == 0.95)
        let table = EvalStatistics.table([scan, benign])
        #expect(table.contains("| scan | port_scan | 20 | 19 | 0.95 | 0 | 0 |") && table.contains("Precision over all alerts: 0.950 "))
    }

    /// A process run counts the kernel's kill before the agent's, the
    /// agent's kill time as the alert's detection plus response latency,
    /// and its marker files.
    @Test func processRunsCountKillsAndMarkers() {
        var result = ScenarioResult(scenario: "revshell-mkfifo-nc", expected: "reverse_shell", group: .process)
        func run(_ lines: [AlertLine], markers: Int) {
            let verdict = Attribution.attribute(lines, startNs: 0, expected: "reverse_shell", attacker: "198.18.0.11")
            result.record(lines, verdict, firstPacketNs: 0)
            result.recordProcesses(lines, verdict, markers: markers)
        }
        func line(_ id: String, killedAtExec: Bool?) -> AlertLine {
            AlertLine(
                id: id, kind: "reverse_shell", timeNs: 10, sourceAddress: "198.18.0.11", detectionLatencyMs: 4,
                responseLatencyMs: 0.5, killedAtExec: killedAtExec)
        }
        run([line("a", killedAtExec: false), line("b", killedAtExec: true)], markers: 0)
        run([line("c", killedAtExec: false)], markers: 1)
        run([], markers: 0)
        #expect(result.killedAtExec == 1 && result.killedByAgent == 1 && result.agentKillMs == [4.5])
        #expect(result.markerFiles == [0, 1, 0] && result.detected == 2 && result.runs == 3)
        let table = EvalStatistics.processTable([result, ScenarioResult(scenario: "scan", expected: "port_scan")])
        #expect(
            table.contains("| revshell-mkfifo-nc | reverse_shell | 3 | 2 | 0.67 | 0 | 0 | 4.0 / 4.0 / 4.0 | 1 | 0 | 1 | 4.5 / 4.5 | 1 |"))
        #expect(!table.contains("| scan |"), "only the process scenarios")
    }

    /// A file run counts the kernel's kill at the syscall, and marker files
    /// only for the scenarios that write one ("-" for the others).
    @Test func fileRunsCountKillsAndMarkersOnlyWhereCounted() {
        func run(_ result: inout ScenarioResult, _ lines: [AlertLine], expected: String, markers: Int?) {
            let verdict = Attribution.attribute(lines, startNs: 0, expected: expected, attacker: "", attackerPod: "pod-a")
            result.record(lines, verdict, firstPacketNs: 0)
            result.recordBaseline(verdict)
            result.recordProcesses(lines, verdict, markers: markers)
        }
        var breakout = ScenarioResult(scenario: "file-unshare-userns", expected: "breakout", group: .file)
        let killed = AlertLine(id: "b1", kind: "breakout", timeNs: 10, detectionLatencyMs: 1.5, killedAtExec: true, podName: "pod-a")
        run(&breakout, [killed], expected: "breakout", markers: 0)
        var write = ScenarioResult(scenario: "file-write-etc-shadow", expected: "sensitive_write", group: .file)
        run(
            &write, [AlertLine(id: "w1", kind: "sensitive_write", timeNs: 10, detectionLatencyMs: 0.5, podName: "pod-a")],
            expected: "sensitive_write", markers: nil)
        let table = EvalStatistics.fileTable([
            breakout, write, ScenarioResult(scenario: "revshell", expected: "reverse_shell", group: .process)
        ])
        #expect(
            table.contains("| file-unshare-userns | breakout | 1 | 1 | 1.00 | 0 | 0 | 1 of 1 | 1.5 / 1.5 / 1.5 | 1 | 0 | 0 |"), "\(table)")
        #expect(
            table.contains("| file-write-etc-shadow | sensitive_write | 1 | 1 | 1.00 | 0 | 0 | 1 of 1 | 0.5 / 0.5 / 0.5 | 0 | 0 | - |"),
            "\(table)")
        #expect(!table.contains("revshell"))
    }
}
