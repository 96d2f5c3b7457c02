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
}
