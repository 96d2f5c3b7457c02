import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Lateral scan detection")
struct ScanDetectorTests {
    let target = "10.1.3.4"

    @Test("TRW steps and thresholds are the published ones")
    func trwModel() {
        let model = TRWModel(ScanConfig())
        #expect(abs(model.failureStep - 1.386_294_361_119_890_6) < 1e-12)
        #expect(abs(model.successStep + 1.386_294_361_119_890_6) < 1e-12)
        #expect(abs(model.upperThreshold - 4.595_119_850_134_59) < 1e-12)
        #expect(abs(model.lowerThreshold + 4.595_119_850_134_59) < 1e-12)
        // Three failures stay below η1, four cross it.
        #expect(3 * model.failureStep < model.upperThreshold)
        #expect(4 * model.failureStep >= model.upperThreshold)
    }

    @Test("the pure-Swift logarithm matches known values")
    func logarithm() {
        #expect(abs(naturalLog(4) - 1.386_294_361_119_890_6) < 1e-15)
        #expect(abs(naturalLog(0.25) + 1.386_294_361_119_890_6) < 1e-15)
        #expect(abs(naturalLog(99) - 4.595_119_850_134_59) < 1e-13)
        #expect(abs(naturalLog(1)) < 1e-15)
    }

    @Test("vertical SYN scan answered by RSTs alerts on the fourth failure")
    func verticalSynScan() {
        var detector = ScanDetector()
        var firstAlertAt: Int?
        var alerts: [Alert] = []
        for port in UInt16(1)...10 {
            let key = flow(podPort: 50_000 + port, to: target, port: port)
            let t = Clock.t0 + UInt64(port) * 10 * Clock.ms
            alerts += detector.observe(opened(key, at: t), now: t)
            let raised = detector.observe(refused(key, at: t + Clock.ms), now: t + Clock.ms)
            if !raised.isEmpty && firstAlertAt == nil { firstAlertAt = Int(port) }
            alerts += raised
        }
        #expect(firstAlertAt == 4)
        let evidence = try! #require(alerts.first?.scan)
        #expect(evidence.trigger == .trw)
        #expect(evidence.scanType == .vertical)
        #expect(evidence.protocolName == "tcp")
        #expect(evidence.failures == 4 && evidence.successes == 0)
        #expect(evidence.probedHosts == 1 && evidence.probedPorts == 4)
        #expect(evidence.failureRatio == 1)
        #expect(evidence.firstProbeNs == Clock.t0 + 10 * Clock.ms)
        #expect(evidence.lastProbeNs == Clock.t0 + 40 * Clock.ms)
        #expect(evidence.tcpProbeStyles == ["syn"])
        #expect(alerts.first?.flows.count == 4)
        #expect(alerts.first?.source.address == ip("10.1.0.5"))
        // The walk restarts after an alert: ports 5-8 raise the second one.
        #expect(alerts.count == 2)
    }

    @Test("a false-positive probability of 0.02 decides at the third failure (a 0.4-s-paced scan within 1 s)")
    func thirdFailureWithTwoPercent() {
        var config = ScanConfig()
        config.falsePositiveProbability = 0.02
        let model = TRWModel(config)
        #expect(2 * model.failureStep < model.upperThreshold && 3 * model.failureStep >= model.upperThreshold)
        var detector = ScanDetector(config: config)
        var decidedAt: [UInt16] = []
        for port in UInt16(1)...6 {
            let key = flow(podPort: 50_000 + port, to: target, port: port)
            let t = Clock.t0 + UInt64(port) * 400 * Clock.ms
            _ = detector.observe(opened(key, at: t), now: t)
            if !detector.observe(refused(key, at: t + Clock.ms), now: t + Clock.ms).isEmpty { decidedAt.append(port) }
        }
        #expect(decidedAt == [3, 6], "the walk restarts after an alert")
    }

    @Test("horizontal scan of 30 hosts whose probes succeed trips the fan-out window")
    func horizontalFanout() {
        var detector = ScanDetector()
        var alerts: [Alert] = []
        for host in 1...30 {
            let key = flow(to: "10.2.0.\(host)", port: 22)
            let t = Clock.t0 + UInt64(host) * 100 * Clock.ms
            alerts += detector.observe(opened(key, at: t), now: t)
            alerts += detector.observe(answered(key, at: t + Clock.ms), now: t + Clock.ms)
        }
        #expect(alerts.count == 1)
        let evidence = try! #require(alerts.first?.scan)
        #expect(evidence.trigger == .fanoutHorizontal)
        #expect(evidence.scanType == .horizontal)
        #expect(evidence.probedHosts == 25)
        #expect(evidence.probedPorts == 1)
        #expect(evidence.failures == 0)
        #expect(evidence.successes == 24 && evidence.unanswered == 1)
    }

    @Test("vertical fan-out: 15 open ports on one host")
    func verticalFanout() {
        var detector = ScanDetector()
        var alerts: [Alert] = []
        for port in UInt16(8000)..<8015 {
            let key = flow(to: target, port: port)
            alerts += detector.observe(opened(key, at: Clock.t0 + UInt64(port)), now: Clock.t0 + UInt64(port))
            alerts += detector.observe(answered(key, at: Clock.t0 + UInt64(port) + 1), now: Clock.t0 + UInt64(port) + 1)
        }
        #expect(alerts.map { $0.scan?.trigger } == [.fanoutVertical])
        #expect(alerts.first?.scan?.probedPorts == 15)
    }

    // The ICMP port unreachable of a closed UDP port is a flow of its own to the kernel,
    // not an answer on the probe's flow: the probe fails on the reply timeout.
    @Test("UDP scan of closed ports: the probes go unanswered")
    func udpScan() {
        var detector = ScanDetector()
        var alerts: [Alert] = []
        for port in UInt16(1000)..<1008 {
            let key = flow(.udp, to: target, port: port)
            alerts += detector.observe(opened(key, at: Clock.t0 + UInt64(port) * Clock.ms), now: Clock.t0 + UInt64(port) * Clock.ms)
        }
        alerts += detector.tick(now: Clock.t0 + 1_008 * Clock.ms + detector.config.replyTimeoutNs)
        #expect(alerts.count == 2)
        #expect(alerts.first?.scan?.protocolName == "udp")
        #expect(alerts.first?.scan?.failures == 4)
        #expect(alerts.first?.scan?.tcpProbeStyles == [])
    }

    @Test("FIN, NULL and Xmas probes count as probes and mark the alert stealthy")
    func stealthProbes() {
        var detector = ScanDetector()
        let styles: [Flags] = [.fin, [], [.fin, .psh, .urg], .fin]
        var alerts: [Alert] = []
        for (index, flags) in styles.enumerated() {
            let key = flow(to: target, port: UInt16(20 + index))
            let t = Clock.t0 + UInt64(index) * Clock.ms
            alerts += detector.observe(opened(key, at: t, flags: flags), now: t)
            alerts += detector.observe(refused(key, at: t + 1, flags: flags), now: t + 1)
        }
        let alert = try! #require(alerts.first)
        #expect(alert.scan?.tcpProbeStyles == ["fin", "null", "xmas"])
        #expect(alert.severity == .high)
    }

    @Test("unanswered stealth probes fail on the reply timeout, decided in tick")
    func probeTimeouts() {
        var detector = ScanDetector()
        for index in 0..<4 {
            let key = flow(to: target, port: UInt16(100 + index))
            #expect(detector.observe(opened(key, at: Clock.t0 + UInt64(index) * Clock.ms, flags: .fin), now: Clock.t0).isEmpty)
        }
        #expect(detector.tick(now: Clock.t0 + 2 * Clock.s).isEmpty)
        #expect(detector.pendingProbes == 4)
        let alerts = detector.tick(now: Clock.t0 + 3 * Clock.s + 10 * Clock.ms)
        #expect(alerts.count == 1)
        #expect(detector.stats.timeouts == 4)
        #expect(detector.pendingProbes == 0)
        // Decided by absence: latency runs from the last unanswered probe.
        #expect(alerts.first?.detectionLatencyMs == 3_007)
        #expect(alerts.first?.scan?.failures == 4)
    }

    @Test("50 retries of one unavailable service are one first contact")
    func retries() {
        var detector = ScanDetector()
        var alerts: [Alert] = []
        for attempt in 0..<50 {
            let key = flow(podPort: UInt16(41_000 + attempt), to: target, port: 5432)
            let t = Clock.t0 + UInt64(attempt) * 200 * Clock.ms
            alerts += detector.observe(opened(key, at: t), now: t)
            alerts += detector.observe(refused(key, at: t + Clock.ms), now: t + Clock.ms)
        }
        alerts += detector.tick(now: Clock.t0 + 60 * Clock.s)
        #expect(alerts.isEmpty)
        #expect(detector.stats.firstContacts == 1)
        #expect(detector.stats.repeatContacts == 49)
    }

    @Test("health checker polling 20 pods every 10 s for 10 minutes is not a scan")
    func healthChecker() {
        var detector = ScanDetector()
        var alerts: [Alert] = []
        var podPort: UInt16 = 30_000
        for round in 0..<60 {
            let roundStart = Clock.t0 + UInt64(round) * 10 * Clock.s
            for pod in 1...20 {
                podPort &+= 1
                let key = flow(pod: "10.1.0.2", podPort: podPort, to: "10.1.9.\(pod)", port: 8080)
                let t = roundStart + UInt64(pod) * 5 * Clock.ms
                alerts += detector.observe(opened(key, at: t), now: t)
                alerts += detector.observe(answered(key, at: t + Clock.ms), now: t + Clock.ms)
                alerts += detector.observe(ended(key, at: t + 3 * Clock.ms), now: t + 3 * Clock.ms)
            }
            alerts += detector.tick(now: roundStart + 5 * Clock.s)
        }
        #expect(alerts.isEmpty)
        #expect(detector.stats.firstContacts == 20)
        #expect(detector.stats.successes == 20)
    }

    @Test("allowlisted sources are never judged")
    func allowlist() {
        var config = ScanConfig()
        config.allowlistedSources = [IPPrefix("10.1.0.0/24")!]
        var detector = ScanDetector(config: config)
        var alerts: [Alert] = []
        for port in UInt16(1)...40 {
            let key = flow(to: target, port: port)
            alerts += detector.observe(opened(key, at: Clock.t0 + UInt64(port)), now: Clock.t0 + UInt64(port))
            alerts += detector.observe(refused(key, at: Clock.t0 + UInt64(port) + 1), now: Clock.t0 + UInt64(port) + 1)
        }
        #expect(alerts.isEmpty)
        #expect(detector.stats.allowlistedFlows == 40)
        #expect(detector.trackedSources == 0)
    }

    @Test("successes walk a source down to benign, which restarts the walk")
    func benignRestart() {
        var detector = ScanDetector()
        let source = SourceKey(address: ip("10.1.0.5"), ifindex: 7)
        for index in 0..<4 {
            let key = flow(to: "10.2.0.\(index + 1)", port: 443)
            _ = detector.observe(opened(key, at: Clock.t0 + UInt64(index)), now: Clock.t0)
            _ = detector.observe(answered(key, at: Clock.t0 + UInt64(index) + 1), now: Clock.t0)
        }
        #expect(detector.score(of: source) == 0)
        var alerts: [Alert] = []
        for index in 0..<4 {
            let key = flow(to: "10.3.0.\(index + 1)", port: 443)
            alerts += detector.observe(opened(key, at: Clock.t0 + 100 + UInt64(index)), now: Clock.t0)
            alerts += detector.observe(refused(key, at: Clock.t0 + 100 + UInt64(index) + 1), now: Clock.t0)
            #expect(alerts.count == (index == 3 ? 1 : 0))
        }
        #expect(alerts.first?.scan?.scanType == .horizontal)
    }

    @Test("TCP flows first seen mid-stream are not probes; remote-initiated flows are ignored")
    func nonProbes() {
        var detector = ScanDetector()
        _ = detector.observe(opened(flow(to: target, port: 443), at: Clock.t0, flags: [.ack, .psh]), now: Clock.t0)
        _ = detector.observe(opened(flow(to: target, port: 445), at: Clock.t0, flags: [.ack, .fin]), now: Clock.t0)
        _ = detector.observe(opened(flow(to: target, port: 446), at: Clock.t0, flags: .rst), now: Clock.t0)
        var inbound = opened(flow(to: target, port: 444), at: Clock.t0)
        inbound.flow.podInitiated = false
        _ = detector.observe(inbound, now: Clock.t0)
        #expect(detector.stats.nonProbeFlows == 3)
        #expect(detector.stats.firstContacts == 0)
    }

    @Test("bare ACK probes (nmap -sA) reset by the target are a scan")
    func ackScan() throws {
        var detector = ScanDetector()
        var alerts: [Alert] = []
        for port in UInt16(1)...4 {
            let key = flow(to: target, port: port)
            let t = Clock.t0 + UInt64(port) * Clock.ms
            alerts += detector.observe(opened(key, at: t, flags: .ack), now: t)
            alerts += detector.observe(refused(key, at: t + 1, flags: .ack), now: t + 1)
        }
        let alert = try #require(alerts.first)
        #expect(alerts.count == 1 && alert.scan?.tcpProbeStyles == ["ack"] && alert.severity == .high)
    }

    /// Four refused ports, 1...4 (or from `first`), each probed `at` plus a millisecond per port.
    func scanFourPorts(_ detector: inout ScanDetector, at start: UInt64, first: UInt16 = 1) -> [Alert] {
        var alerts: [Alert] = []
        for port in first..<(first + 4) {
            let key = flow(podPort: 40_000 + port, to: target, port: port)
            let t = start + UInt64(port) * Clock.ms
            alerts += detector.observe(opened(key, at: t), now: t)
            alerts += detector.observe(refused(key, at: t + 1), now: t + 1)
        }
        return alerts
    }

    @Test("the same ports scanned again after the memory horizon are judged again; within it, retries")
    func rescanAfterTheHorizon() {
        var detector = ScanDetector()
        #expect(scanFourPorts(&detector, at: Clock.t0).count == 1)
        #expect(scanFourPorts(&detector, at: Clock.t0 + 30 * Clock.s).isEmpty, "30 s later: retries of known targets")
        #expect(detector.stats.repeatContacts == 4)
        // The retries refreshed the targets: quiet for the horizon from then on.
        #expect(scanFourPorts(&detector, at: Clock.t0 + 149 * Clock.s).isEmpty)
        #expect(scanFourPorts(&detector, at: Clock.t0 + 149 * Clock.s + ScanConfig().contactMemoryNs).count == 1)
        #expect(detector.stats.firstContacts == 8)
    }

    @Test("a released quarantine: the same ports scanned at once are judged again, probes from before it no longer count")
    func releaseForgetsThePod() {
        var detector = ScanDetector()
        #expect(scanFourPorts(&detector, at: Clock.t0).count == 1)
        // Three probes still unanswered when the operator releases the pod.
        for port in UInt16(100)..<103 {
            _ = detector.observe(
                opened(flow(podPort: 41_000 + port, to: target, port: port), at: Clock.t0 + Clock.s), now: Clock.t0 + Clock.s)
        }
        #expect(detector.forget(ifindex: 7) == 1)
        #expect(detector.forget(ifindex: 8) == 0, "other pods keep theirs")
        #expect(detector.tick(now: Clock.t0 + 10 * Clock.s).isEmpty, "their timeouts are not the released pod's failures")
        #expect(scanFourPorts(&detector, at: Clock.t0 + 12 * Clock.s).count == 1, "the same four ports, seconds later: a scan again")
        #expect(detector.stats.orphanedOutcomes == 3)
    }

    @Test("a client retrying one dead service every minute for an hour is one failed first contact")
    func retriesCountOnce() {
        var detector = ScanDetector()
        var alerts: [Alert] = []
        for minute in UInt64(0)..<60 {
            let key = flow(podPort: UInt16(30_000 + minute), to: target, port: 5432)
            let t = Clock.t0 + minute * 60 * Clock.s
            alerts += detector.observe(opened(key, at: t), now: t)
            alerts += detector.observe(refused(key, at: t + 1), now: t + 1)
        }
        #expect(alerts.isEmpty)
        #expect(detector.stats.firstContacts == 1 && detector.stats.repeatContacts == 59)
    }

    @Test("a target forgotten past the horizon and evicted later keeps its newer memory")
    func evictionKeepsNewerMemory() {
        var config = ScanConfig()
        config.maxContactsPerSource = 2
        var detector = ScanDetector(config: config)
        let key = flow(to: target, port: 1)
        _ = detector.observe(opened(key, at: Clock.t0), now: Clock.t0)
        let later = Clock.t0 + config.contactMemoryNs + Clock.s
        _ = detector.observe(opened(key, at: later), now: later)  // port 1 again: a first contact
        _ = detector.observe(opened(flow(to: target, port: 2), at: later + 1), now: later + 1)  // evicts the old entry of port 1
        _ = detector.observe(opened(key, at: later + 2), now: later + 2)
        #expect(detector.stats.firstContacts == 3 && detector.stats.repeatContacts == 1, "port 1 is still remembered")
    }

    @Test("sources and first contacts are capped, oldest evicted and counted")
    func caps() {
        var config = ScanConfig()
        config.maxSources = 2
        config.maxContactsPerSource = 4
        var detector = ScanDetector(config: config)
        for pod in 1...3 {
            for port in UInt16(1)...6 {
                let key = flow(pod: "10.1.0.\(pod)", to: target, port: port)
                _ = detector.observe(opened(key, at: Clock.t0), now: Clock.t0)
                _ = detector.observe(answered(key, at: Clock.t0 + 1), now: Clock.t0 + 1)
            }
        }
        #expect(detector.trackedSources == 2)
        #expect(detector.stats.evictedSources == 1)
        #expect(detector.stats.evictedContacts == 3 * 2)
        // The first pod was evicted: its targets are first contacts again.
        _ = detector.observe(opened(flow(pod: "10.1.0.1", to: target, port: 1), at: Clock.t0 + 5), now: Clock.t0 + 5)
        #expect(detector.stats.firstContacts == 19)
    }
}
