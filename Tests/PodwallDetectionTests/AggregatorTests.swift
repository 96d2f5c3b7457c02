import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Aggregator: wiring, latency, policy")
struct AggregatorTests {
    /// Four refused ports from one pod: the fourth RST decides the scan.
    func scan(
        _ aggregator: inout Aggregator, from pod: String = "10.1.0.5", ports: ClosedRange<UInt16> = 1...4, at start: UInt64,
        decisionDelay: UInt64
    ) -> [Alert] {
        var reports: [Alert] = []
        for port in ports {
            let key = flow(pod: pod, podPort: 50_000 + port, to: "10.1.3.4", port: port)
            let t = start + UInt64(port) * Clock.ms
            reports += aggregator.observe(opened(key, at: t), now: t)
            reports += aggregator.observe(refused(key, at: t + 1), now: t + 1 + decisionDelay)
        }
        return reports
    }

    @Test("detection latency is the injected now minus the deciding packet's timestamp")
    func latency() {
        var aggregator = Aggregator()
        let reports = scan(&aggregator, at: Clock.t0, decisionDelay: 250 * Clock.ms)
        let alert = try! #require(reports.first)
        #expect(reports.count == 1)
        #expect(alert.detectionLatencyMs == 250)
        #expect(alert.timeNs == Clock.t0 + 4 * Clock.ms + 1 + 250 * Clock.ms)
    }

    @Test("default policy: a scan quarantines the pod for 10 minutes and captures it")
    func scanPolicy() {
        var aggregator = Aggregator()
        let alert = try! #require(scan(&aggregator, at: Clock.t0, decisionDelay: 0).first)
        #expect(alert.actions == [.quarantine(pod: ip("10.1.0.5"), ifindex: 7, ttlSeconds: 600), .capture(id: alert.id)])
    }

    @Test("repeats within the window are coalesced updates with the count, without repeating actions")
    func repeatsAreUpdates() {
        var aggregator = Aggregator()
        let first = scan(&aggregator, at: Clock.t0, decisionDelay: 0)
        var more: [Alert] = []
        for port in UInt16(5)...8 {
            let key = flow(podPort: 50_000 + port, to: "10.1.3.4", port: port)
            more += aggregator.observe(opened(key, at: Clock.t0 + 5 * Clock.s), now: Clock.t0 + 5 * Clock.s)
            more += aggregator.observe(refused(key, at: Clock.t0 + 5 * Clock.s), now: Clock.t0 + 5 * Clock.s)
        }
        #expect(more.isEmpty, "within the update interval of the first line")
        more += aggregator.tick(now: Clock.t0 + 11 * Clock.s)
        let update = try! #require(more.first)
        #expect(more.count == 1)
        #expect(update.isUpdate && update.count == 2 && update.newCount == 1 && update.id == first[0].id)
        #expect(update.actions == [.none])
        #expect(aggregator.stats.alerts == 1 && aggregator.stats.updates == 1)
    }

    /// What the agent reports from the kernel: whether a response is still in force.
    final class KernelResponses: @unchecked Sendable {
        var released = false
    }

    @Test("a quarantine released by hand is taken again when the scan goes on, in the same window")
    func releasedResponsesAreReapplied() throws {
        var aggregator = Aggregator()
        let kernel = KernelResponses()
        aggregator.responseInForce = { _ in !kernel.released }
        let first = try #require(scan(&aggregator, at: Clock.t0, decisionDelay: 0).first)
        let quarantine = ResponseAction.quarantine(pod: ip("10.1.0.5"), ifindex: 7, ttlSeconds: 600)
        #expect(first.actions.contains(quarantine))
        // Still quarantined: a repeat asks for nothing and waits for the update interval.
        #expect(scan(&aggregator, ports: 5...8, at: Clock.t0 + 2 * Clock.s, decisionDelay: 0).isEmpty)
        kernel.released = true  // podwall quarantine release
        let again = try #require(scan(&aggregator, ports: 9...12, at: Clock.t0 + 20 * Clock.s, decisionDelay: 0).first)
        #expect(again.isUpdate && again.id == first.id && again.actions == [quarantine])
        // Repeats decided together, before that request is in force, ask once.
        let burst = scan(&aggregator, ports: 13...16, at: Clock.t0 + 20 * Clock.s + Clock.ms, decisionDelay: 0)
        #expect(burst.allSatisfy { !$0.actions.contains(quarantine) }, "\(burst.map(\.actions))")
        let later = try #require(scan(&aggregator, ports: 17...20, at: Clock.t0 + 22 * Clock.s, decisionDelay: 0).first)
        #expect(later.actions == [quarantine], "still released a second later: asked again")
    }

    @Test("exfiltration blocks the destination for an hour and captures; a new destination is blocked too")
    func exfiltrationPolicy() {
        var aggregator = Aggregator()
        let first = flow(to: "203.0.113.9", port: 443)
        let second = flow(podPort: 40_001, to: "198.51.100.3", port: 443)
        var cumulative: [FlowKey: UInt64] = [:]
        func send(_ bytes: UInt64, on key: FlowKey, interval: UInt64) -> [Alert] {
            cumulative[key, default: 0] += bytes
            let t = Clock.t0 + interval * 10 * Clock.s + 5 * Clock.s
            return aggregator.observe(FlowSample(key: key, timestampNs: t, bytesFromPod: cumulative[key]!), now: t)
        }
        for interval in UInt64(0)..<8 {
            #expect(send(1_000_000, on: first, interval: interval).isEmpty)
            #expect(send(1_000_000, on: second, interval: interval).isEmpty)
        }
        let reports = send(300_000_000, on: first, interval: 8)
        let alert = try! #require(reports.first)
        #expect(!alert.isUpdate)
        #expect(alert.actions == [.block(remote: ip("203.0.113.9"), ttlSeconds: 3600), .capture(id: alert.id)])
        // Ten seconds later, same dedup window: the pod turns to its second destination.
        let late = send(300_000_000, on: second, interval: 9)
        #expect(!late.isEmpty && late.allSatisfy { $0.isUpdate && $0.id == alert.id })
        #expect(late.first?.actions == [.block(remote: ip("198.51.100.3"), ttlSeconds: 3600)])
        #expect(late.dropFirst().allSatisfy { $0.actions == [.none] })
    }

    @Test("blocklist hits are reported without actions")
    func blocklistHits() {
        var aggregator = Aggregator()
        let key = flow(to: "203.0.113.66", port: 4444)
        let reports = aggregator.observe(
            DropEvent(key: key, timestampNs: Clock.t0, matchedPrefix: "203.0.113.0/24", reason: .blocklist), now: Clock.t0)
        #expect(reports.first?.actions == [.none])
    }

    @Test("timeouts surface through the aggregator's tick")
    func tickDecides() {
        var aggregator = Aggregator()
        for port in UInt16(1)...4 {
            _ = aggregator.observe(opened(flow(to: "10.1.3.4", port: port), at: Clock.t0, flags: .fin), now: Clock.t0)
        }
        #expect(aggregator.tick(now: Clock.t0 + Clock.s).isEmpty)
        let reports = aggregator.tick(now: Clock.t0 + 4 * Clock.s)
        #expect(reports.count == 1)
        #expect(reports.first?.detectionLatencyMs == 4_000)
    }

    @Test("a protocol mismatch flows through with block + capture")
    func mismatchPolicy() {
        var aggregator = Aggregator()
        let key = flow(to: "198.51.100.80", port: 80)
        let reports = aggregator.observe(payload(key, .fromPod, "/bin/sh -i\n", at: Clock.t0), now: Clock.t0)
        let alert = try! #require(reports.first)
        #expect(alert.actions == [.block(remote: ip("198.51.100.80"), ttlSeconds: 3600), .capture(id: alert.id)])
    }

    @Test("a custom policy changes the actions")
    func customPolicy() {
        var config = AggregatorConfig()
        config.policy[.portScan] = ResponseRule(capture: true)
        var aggregator = Aggregator(config: config)
        let alert = try! #require(scan(&aggregator, at: Clock.t0, decisionDelay: 0).first)
        #expect(alert.actions == [.capture(id: alert.id)])
    }

    @Test("memory estimate counts tracked state")
    func memory() {
        var aggregator = Aggregator()
        _ = scan(&aggregator, at: Clock.t0, decisionDelay: 0)
        let estimate = aggregator.memory
        #expect(estimate.trackedSources == 1)
        #expect(estimate.bytes > 0)
    }
}
