import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Alert deduplication")
struct AlertDeduplicatorTests {
    func drop(_ pod: String = "10.1.0.5", at t: UInt64) -> Alert {
        let key = flow(pod: pod, to: "198.51.100.7", port: 443)
        return BlocklistDetector().observe(
            DropEvent(key: key, timestampNs: t, matchedPrefix: "198.51.100.0/24", reason: .blocklist), now: t)[0]
    }

    @Test("repeats inside the window raise the first alert's count and come back as updates")
    func counting() {
        var dedup = AlertDeduplicator()
        let first = dedup.submit(drop(at: Clock.t0))
        let second = dedup.submit(drop(at: Clock.t0 + 10 * Clock.s))
        let third = dedup.submit(drop(at: Clock.t0 + 59 * Clock.s))
        #expect(!first.isUpdate && first.count == 1)
        #expect(second.isUpdate && second.count == 2)
        #expect(third.isUpdate && third.count == 3)
        #expect(third.id == first.id)
        #expect(third.timeNs == first.timeNs)
        #expect(third.lastSeenNs == Clock.t0 + 59 * Clock.s)
        #expect(dedup.repeatsFolded == 2)

        let nextWindow = dedup.submit(drop(at: Clock.t0 + 60 * Clock.s))
        #expect(!nextWindow.isUpdate && nextWindow.count == 1)
        #expect(nextWindow.id != first.id)
        #expect(nextWindow.windowStartNs == Clock.t0 + 60 * Clock.s)
    }

    @Test("a process a cgroup hook named is its own incident beside its pod's TC drops, and its repeats fold")
    func processesHaveTheirOwnWindows() {
        var dedup = AlertDeduplicator()
        #expect(!dedup.submit(drop(at: Clock.t0)).isUpdate)
        func denied(_ tgid: UInt32, at t: UInt64) -> Alert {
            var alert = drop(at: t)
            alert.source.process = AlertProcess(pid: tgid, tgid: tgid, uid: 0, comm: "nc", cgroupId: 77)
            return alert
        }
        #expect(!dedup.submit(denied(4240, at: Clock.t0 + Clock.s)).isUpdate)
        #expect(dedup.submit(denied(4240, at: Clock.t0 + 2 * Clock.s)).isUpdate)
        #expect(!dedup.submit(denied(5150, at: Clock.t0 + 3 * Clock.s)).isUpdate)
        #expect(dedup.openWindows == 3)
    }

    @Test("different sources and kinds have their own windows")
    func separateKeys() {
        var dedup = AlertDeduplicator()
        #expect(!dedup.submit(drop("10.1.0.5", at: Clock.t0)).isUpdate)
        #expect(!dedup.submit(drop("10.1.0.6", at: Clock.t0)).isUpdate)
        var scan = drop(at: Clock.t0)
        scan.kind = .portScan
        #expect(!dedup.submit(scan).isUpdate)
        #expect(dedup.openWindows == 3)
        #expect(dedup.flush(now: Clock.t0 + 61 * Clock.s).isEmpty, "no repeats, no update")
        #expect(dedup.openWindows == 0)
    }

    @Test("actions already requested in a window are not requested again")
    func claims() {
        var dedup = AlertDeduplicator()
        let first = dedup.submit(drop(at: Clock.t0))
        let block = ResponseAction.block(remote: ip("198.51.100.7"), ttlSeconds: 60)
        #expect(dedup.claim([block], for: first) == [block])
        let update = dedup.submit(drop(at: Clock.t0 + 1))
        #expect(dedup.claim([block], for: update) == [.none])
        let other = ResponseAction.block(remote: ip("198.51.100.8"), ttlSeconds: 60)
        #expect(dedup.claim([block, other], for: update) == [other])
    }

    /// What the aggregator does with each occurrence: fold, claim nothing new, release.
    func report(_ alert: Alert, into dedup: inout AlertDeduplicator, actions: [ResponseAction] = [.none]) -> Alert? {
        var report = dedup.submit(alert)
        report.actions = dedup.claim(actions, for: report)
        return dedup.release(report)
    }

    @Test("updates are coalesced: one line per update interval, carrying the repeats since the last")
    func coalescing() throws {
        var dedup = AlertDeduplicator(updateIntervalNs: 10 * Clock.s)
        let first = try #require(report(drop(at: Clock.t0), into: &dedup))
        #expect(!first.isUpdate && first.newCount == 1)
        for second in UInt64(1)...9 {
            #expect(report(drop(at: Clock.t0 + second * Clock.s), into: &dedup) == nil, "held at \(second) s")
        }
        #expect(dedup.flush(now: Clock.t0 + 9 * Clock.s).isEmpty)
        let update = try #require(report(drop(at: Clock.t0 + 10 * Clock.s), into: &dedup))
        #expect(update.isUpdate && update.id == first.id && update.count == 11 && update.newCount == 10)
        // Repeats that stop are reported by the tick once the interval has passed.
        #expect(report(drop(at: Clock.t0 + 12 * Clock.s), into: &dedup) == nil)
        #expect(dedup.flush(now: Clock.t0 + 19 * Clock.s).isEmpty)
        let late = try #require(dedup.flush(now: Clock.t0 + 20 * Clock.s).first)
        #expect(late.isUpdate && late.count == 12 && late.newCount == 1 && late.actions == [.none])
        #expect(dedup.flush(now: Clock.t0 + 40 * Clock.s).isEmpty, "nothing new, no line")
    }

    @Test("an update asking for a new response goes out at once")
    func responsesDoNotWait() throws {
        var dedup = AlertDeduplicator(updateIntervalNs: 10 * Clock.s)
        _ = report(drop(at: Clock.t0), into: &dedup)
        let block = ResponseAction.block(remote: ip("198.51.100.8"), ttlSeconds: 60)
        let update = try #require(report(drop(at: Clock.t0 + Clock.s), into: &dedup, actions: [block]))
        #expect(update.isUpdate && update.actions == [block] && update.newCount == 1)
    }

    @Test("the repeats of an ended window are still reported after a new window opens")
    func endedWindowsReportTheirRest() throws {
        var dedup = AlertDeduplicator(windowNs: 60 * Clock.s, updateIntervalNs: 10 * Clock.s)
        let first = try #require(report(drop(at: Clock.t0), into: &dedup))
        _ = report(drop(at: Clock.t0 + 55 * Clock.s), into: &dedup)  // the line at 55 s
        #expect(report(drop(at: Clock.t0 + 58 * Clock.s), into: &dedup) == nil)
        let next = try #require(report(drop(at: Clock.t0 + 61 * Clock.s), into: &dedup))
        #expect(!next.isUpdate && next.id != first.id)
        #expect(dedup.flush(now: Clock.t0 + 62 * Clock.s).isEmpty, "not before the interval")
        let rest = dedup.flush(now: Clock.t0 + 65 * Clock.s)
        #expect(rest.map(\.id) == [first.id] && rest.first?.newCount == 1 && rest.first?.count == 3)
    }

    /// The flood: a quarantined pod's drops, 100 a second for 15 minutes, were 64,000
    /// lines. Now: at most one first line and six updates per 60-s window, and every drop counted.
    @Test("a 15-minute flood of repeats is a bounded number of lines that count every repeat")
    func floodIsBounded() {
        var aggregator = Aggregator()
        var lines: [Alert] = []
        let drops = 15 * 60 * 100
        for index in 0..<drops {
            let t = Clock.t0 + UInt64(index) * 10 * Clock.ms
            let key = flow(to: "198.51.100.7", port: UInt16(1000 + index % 5000))
            lines += aggregator.observe(DropEvent(key: key, timestampNs: t, matchedPrefix: "", reason: .quarantine), now: t)
            if index % 100 == 99 { lines += aggregator.tick(now: t) }
        }
        lines += aggregator.tick(now: Clock.t0 + 20 * 60 * Clock.s)
        #expect(lines.allSatisfy { $0.kind == .quarantineDrop })
        #expect(lines.count <= 15 * 7, "\(lines.count) lines")
        #expect(lines.reduce(0) { $0 + $1.newCount } == drops, "every drop is counted in some line")
        let byAlert = Dictionary(grouping: lines.filter(\.isUpdate), by: \.id)
        for updates in byAlert.values {
            let times = updates.map(\.lastSeenNs).sorted()
            #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 >= 9 * Clock.s }, "one update per interval")
        }
    }

    @Test("alert ids are deterministic and tagged by kind")
    func ids() {
        let source = SourceKey(address: ip("10.1.0.5"), ifindex: 7)
        let id = AlertID.make(kind: .portScan, source: source, windowStartNs: Clock.t0)
        #expect(id == AlertID.make(kind: .portScan, source: source, windowStartNs: Clock.t0))
        #expect(id.hasPrefix("ps-") && id.count == 19)
        #expect(id != AlertID.make(kind: .portScan, source: source, windowStartNs: Clock.t0 + 1))
        #expect(AlertID.make(kind: .exfiltration, source: source, windowStartNs: 0).hasPrefix("ex-"))
    }
}
