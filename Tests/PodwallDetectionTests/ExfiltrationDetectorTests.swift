import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Exfiltration spikes")
struct ExfiltrationDetectorTests {
    static let mb: UInt64 = 1_000_000
    let external = flow(to: "203.0.113.9", port: 443)

    /// Feeds one sample per 10 s interval (mid-interval) carrying that interval's bytes.
    struct Feeder {
        var detector = ExfiltrationDetector()
        var cumulative: [FlowKey: UInt64] = [:]
        var interval: UInt64 = 0

        mutating func send(_ bytes: UInt64, on key: FlowKey) -> [Alert] {
            cumulative[key, default: 0] += bytes
            let t = Clock.t0 + interval * 10 * Clock.s + 5 * Clock.s
            return detector.observe(FlowSample(key: key, timestampNs: t, bytesFromPod: cumulative[key]!), now: t + 2 * Clock.ms)
        }

        mutating func nextInterval() { interval += 1 }
    }

    @Test("a 200 MB spike after warm-up alerts with its evidence")
    func spike() {
        var feeder = Feeder()
        for _ in 0..<8 {
            #expect(feeder.send(20 * Self.mb, on: external).isEmpty)
            feeder.nextInterval()
        }
        let alerts = feeder.send(200 * Self.mb, on: external)
        #expect(alerts.count == 2)
        let pair = try! #require(alerts.first { $0.exfil?.scope == .podRemote })
        let evidence = try! #require(pair.exfil)
        #expect(evidence.bytesInInterval == 200 * Self.mb)
        #expect(abs(evidence.baselineMean - Double(20 * Self.mb)) < 1)
        #expect(evidence.sigma == 0)
        #expect(evidence.k == 3)
        #expect(evidence.floorBytes == 10 * Self.mb)
        #expect(abs(evidence.thresholdBytes - 26 * Double(Self.mb)) < 1)
        #expect(evidence.destination == ip("203.0.113.9"))
        #expect(evidence.intervalStartNs == Clock.t0 + 80 * Clock.s)
        #expect(evidence.intervalSeconds == 10)
        #expect(evidence.intervalsObserved == 8)
        #expect(pair.detectionLatencyMs == 2)
        #expect(pair.flows == [external])
        let pod = try! #require(alerts.first { $0.exfil?.scope == .pod })
        #expect(pod.exfil?.destination == ip("203.0.113.9"))
    }

    /// 14 MB in 7 s across an interval boundary (6 MB before it, 8 MB after):
    /// each aligned interval stays under the 10 MB floor; the interval of the
    /// half-shifted grid holds all of it, and one burst makes one alert per scope.
    @Test("a burst across an interval boundary is not split in two")
    func burstAcrossABoundary() {
        var detector = ExfiltrationDetector()
        var sent: UInt64 = 0
        var alerts: [Alert] = []
        let send = { (second: UInt64, bytes: UInt64) in
            sent += bytes
            let t = Clock.t0 + second * Clock.s
            alerts += detector.observe(FlowSample(key: external, timestampNs: t, bytesFromPod: sent), now: t)
        }
        for second in stride(from: UInt64(0), to: 76, by: 2) { send(second, 10_000) }
        #expect(alerts.isEmpty)
        for second in UInt64(77)...83 { send(second, 2 * Self.mb) }
        for second in stride(from: UInt64(84), to: 120, by: 2) { send(second, 10_000) }
        #expect(alerts.count == 2, "\(alerts.map(\.exfil))")
        // Decided at the crossing sample (82 s: 12 MB since 75 s), not at the burst's end.
        #expect(alerts.allSatisfy { $0.exfil?.bytesInInterval == 12 * Self.mb && $0.exfil?.intervalStartNs == Clock.t0 + 75 * Clock.s })
    }

    /// A restarted agent adopts the kernel's flow table: a flow that had sent
    /// 200 MB before the restart must not land in the first interval, where
    /// it would lift the baseline so high that a real spike goes unseen.
    @Test("a flow older than the agent counts from its first sample")
    func adoptedFlowsCountFromTheirFirstSample() {
        var detector = ExfiltrationDetector()
        let t = { (interval: UInt64) in Clock.t0 + interval * 10 * Clock.s + 5 * Clock.s }
        let old = FlowSample(key: external, timestampNs: t(0), bytesFromPod: 200 * Self.mb, predatesObservation: true)
        #expect(detector.observe(old, now: t(0)).isEmpty)
        let fresh = flow(to: "203.0.113.9", port: 8443)
        var alerts: [Alert] = []
        for interval in 1...9 {
            // 1 MB an interval on the old flow, then a 200 MB push on a new one.
            let cumulative = 200 * Self.mb + UInt64(interval) * Self.mb
            alerts += detector.observe(
                FlowSample(key: external, timestampNs: t(UInt64(interval)), bytesFromPod: cumulative),
                now: t(UInt64(interval)))
        }
        #expect(alerts.isEmpty)
        alerts = detector.observe(FlowSample(key: fresh, timestampNs: t(10), bytesFromPod: 200 * Self.mb), now: t(10))
        #expect(alerts.contains { $0.exfil?.scope == .podRemote && $0.exfil?.bytesInInterval == 200 * Self.mb })
        #expect(abs((detector.baseline(of: external.source)?.mean ?? 0) - Double(Self.mb)) < Double(Self.mb) / 2)
    }

    /// Alerts over 500 intervals of 100 MB ±5 % (uniform noise, seeded).
    func steadyAlerts(seed: UInt64, config: ExfiltrationConfig = ExfiltrationConfig()) -> (Int, EWMABaseline?) {
        var feeder = Feeder(detector: ExfiltrationDetector(config: config))
        var random = LCG(state: seed)
        var alerts = 0
        for _ in 0..<500 {
            alerts += feeder.send(UInt64(Double(100 * Self.mb) * (0.95 + 0.1 * random.unit())), on: external).count
            feeder.nextInterval()
        }
        return (alerts, feeder.detector.baseline(of: external.source))
    }

    @Test("a steady 100 MB per interval ±5 % never alerts", arguments: UInt64(1)...10)
    func steadyVolume(seed: UInt64) {
        let (alerts, baseline) = steadyAlerts(seed: seed)
        #expect(alerts == 0)
        #expect(abs((baseline?.mean ?? 0) - Double(100 * Self.mb)) < Double(5 * Self.mb))
    }

    @Test("why σ has a floor: the literal mean + 3σ rule alerts on that same steady series")
    func literalRuleIsNoisy() {
        var config = ExfiltrationConfig()
        config.minRelativeSigma = 0
        #expect((1...10).map { steadyAlerts(seed: $0, config: config).0 }.reduce(0, +) > 0)
    }

    @Test("traffic to cluster-internal destinations is not counted")
    func clusterInternal() {
        var feeder = Feeder()
        let internalFlow = flow(to: "10.96.0.10", port: 443)
        var alerts: [Alert] = []
        for _ in 0..<8 {
            alerts += feeder.send(Self.mb, on: internalFlow)
            feeder.nextInterval()
        }
        alerts += feeder.send(500 * Self.mb, on: internalFlow)
        #expect(alerts.isEmpty)
        #expect(feeder.detector.stats.clusterSamples == 9)
        #expect(feeder.detector.trackedPods == 0)
    }

    @Test("no alert during warm-up, and none below the absolute floor")
    func warmupAndFloor() {
        var feeder = Feeder()
        var alerts: [Alert] = []
        for index in 0..<6 {
            alerts += feeder.send(index == 3 ? 500 * Self.mb : 1_000, on: external)
            feeder.nextInterval()
        }
        #expect(alerts.isEmpty)
        var quiet = Feeder()
        for _ in 0..<8 {
            alerts += quiet.send(1_000, on: external)
            quiet.nextInterval()
        }
        // 9 MB is a huge jump from 1 kB but below the 10 MB floor.
        alerts += quiet.send(9 * Self.mb, on: external)
        #expect(alerts.isEmpty)
    }

    @Test("a later connection on the same ports restarts the count: its whole value is the delta")
    func counterRestart() {
        var detector = ExfiltrationDetector()
        let t = Clock.t0
        _ = detector.observe(FlowSample(key: external, timestampNs: t, bytesFromPod: 5_000), now: t)
        _ = detector.observe(FlowSample(key: external, timestampNs: t + 1, bytesFromPod: 7_000), now: t)
        _ = detector.observe(FlowSample(key: external, timestampNs: t + 2, bytesFromPod: 300, firstSeenNs: t + 2), now: t)
        #expect(detector.stats.counterRestarts == 1)
        // Interval bytes: 5,000 + 2,000 + 300. Closing it shows in the baseline.
        _ = detector.observe(
            FlowSample(key: external, timestampNs: t + 10 * Clock.s, bytesFromPod: 301, firstSeenNs: t + 2), now: t)
        #expect(detector.baseline(of: external.source)?.mean == 7_300)
    }

    /// A read of the flow table and the kernel's volume events race: a read may
    /// be judged after an event it read past, or before one it came ahead of,
    /// or after the flow's end. Out of order, it must add nothing, not restart.
    @Test("samples of one connection out of order, or after its end, add only what is new")
    func outOfOrderSamples() {
        var detector = ExfiltrationDetector()
        let t = Clock.t0
        let first = t  // the connection's first-seen time
        _ = detector.observe(FlowSample(key: external, timestampNs: t + 1, bytesFromPod: 2_000, firstSeenNs: first), now: t + 1)
        _ = detector.observe(FlowSample(key: external, timestampNs: t + 3, bytesFromPod: 3_000, firstSeenNs: first), now: t + 2)
        // A volume event stamped later than the read but carrying fewer bytes.
        _ = detector.observe(FlowSample(key: external, timestampNs: t + 4, bytesFromPod: 2_500, firstSeenNs: first), now: t + 3)
        var end = ended(external, at: t + 5)
        end.flow.firstSeen = first
        _ = detector.observe(end, now: t + 5)
        _ = detector.observe(FlowSample(key: external, timestampNs: t + 4, bytesFromPod: 3_000, firstSeenNs: first), now: t + 6)
        #expect(detector.stats.counterRestarts == 0)
        #expect(detector.trackedFlows == 0)
        // The same ports again later are a new connection, counted whole.
        _ = detector.observe(FlowSample(key: external, timestampNs: t + 7, bytesFromPod: 500, firstSeenNs: t + 7), now: t + 7)
        // Closing the interval shows 3,500 in the baseline.
        let next = flow(podPort: 1, to: "203.0.113.9", port: 443)
        _ = detector.observe(FlowSample(key: next, timestampNs: t + 10 * Clock.s, bytesFromPod: 1), now: t + 10 * Clock.s)
        #expect(detector.baseline(of: external.source)?.mean == 3_500)
    }

    @Test("a flow sampled without new bytes is still seen: its idle sweep waits")
    func silentFlowsStaySeen() {
        var detector = ExfiltrationDetector()
        for seconds: UInt64 in [0, 500, 1_000] {
            let t = Clock.t0 + seconds * Clock.s
            _ = detector.observe(FlowSample(key: external, timestampNs: t, bytesFromPod: 100), now: t)
        }
        _ = detector.tick(now: Clock.t0 + 1_100 * Clock.s)
        #expect(detector.trackedFlows == 1)
    }

    @Test("an alarmed interval is clamped into the baseline, so a sustained exfiltration keeps alerting")
    func clampedBaseline() {
        var feeder = Feeder()
        for _ in 0..<8 {
            _ = feeder.send(20 * Self.mb, on: external)
            feeder.nextInterval()
        }
        var alertingIntervals = 0
        for _ in 0..<5 {
            if !feeder.send(200 * Self.mb, on: external).isEmpty { alertingIntervals += 1 }
            feeder.nextInterval()
        }
        #expect(alertingIntervals == 5)
        let baseline = try! #require(feeder.detector.baseline(of: external.source))
        #expect(baseline.mean < Double(40 * Self.mb))
    }

    @Test("ended flows and idle state are forgotten")
    func forgetting() {
        var detector = ExfiltrationDetector()
        _ = detector.observe(FlowSample(key: external, timestampNs: Clock.t0, bytesFromPod: 1), now: Clock.t0)
        let other = flow(podPort: 1, to: "198.51.100.1", port: 443)
        _ = detector.observe(FlowSample(key: other, timestampNs: Clock.t0, bytesFromPod: 1), now: Clock.t0)
        _ = detector.observe(ended(external, at: Clock.t0 + 1), now: Clock.t0 + 1)
        #expect(detector.trackedFlows == 1)
        _ = detector.tick(now: Clock.t0 + 1_800 * Clock.s)
        #expect(detector.trackedFlows == 0)
        #expect(detector.trackedPairs == 0)
        #expect(detector.trackedPods == 1)
        _ = detector.tick(now: Clock.t0 + 3 * 3_600 * Clock.s)
        #expect(detector.trackedPods == 0)
        #expect(detector.stats.forgottenPods == 1)
    }
}
