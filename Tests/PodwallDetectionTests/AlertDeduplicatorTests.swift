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

    @Test("different sources and kinds have their own windows")
    func separateKeys() {
        var dedup = AlertDeduplicator()
        #expect(!dedup.submit(drop("10.1.0.5", at: Clock.t0)).isUpdate)
        #expect(!dedup.submit(drop("10.1.0.6", at: Clock.t0)).isUpdate)
        var scan = drop(at: Clock.t0)
        scan.kind = .portScan
        #expect(!dedup.submit(scan).isUpdate)
        #expect(dedup.openWindows == 3)
        dedup.expire(now: Clock.t0 + 61 * Clock.s)
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
