import PodwallCore
import Testing

/// Alert times follow the wall clock's steps within a second, and only
/// re-read it that often.
struct WallClockTests {
    /// A wall clock the test steps; counts how often it is read.
    final class SteppedClock {
        var offset: Int64 = 1_700_000_000_000_000_000
        var reads = 0
        func read() -> Int64 {
            reads += 1
            return offset
        }
    }

    @Test func aStepIsFollowedWithinTheRefreshInterval() {
        let wall = SteppedClock()
        var clock = WallClock(now: 10_000_000_000, readOffset: wall.read)
        #expect(clock.unixNanoseconds(10_000_000_000, now: 10_000_000_000) == 1_700_000_010_000_000_000)
        wall.offset -= 3_300_000_000  // NTP steps the wall clock 3.3 s back
        #expect(clock.unixNanoseconds(10_500_000_000, now: 10_500_000_000) == 1_700_000_010_500_000_000, "offset still cached")
        #expect(clock.unixNanoseconds(11_000_000_000, now: 11_000_000_000) == 1_700_000_007_700_000_000, "re-read after a second")
        // An event stamped before the step is placed where the corrected clock puts it.
        #expect(clock.unixNanoseconds(10_000_000_000, now: 11_200_000_000) == 1_700_000_006_700_000_000)
    }

    @Test func theOffsetIsReadAtMostOnceAnInterval() {
        let wall = SteppedClock()
        var clock = WallClock(now: 0, refreshNs: 1_000_000_000, readOffset: wall.read)
        for millisecond in stride(from: UInt64(0), to: 3_000, by: 1) {
            _ = clock.unixNanoseconds(millisecond * 1_000_000, now: millisecond * 1_000_000)
        }
        #expect(wall.reads == 3, "one read at start, then at 1 s and 2 s")
    }

    @Test func aTimeBeforeTheEpochIsClampedNotTrapped() {
        var clock = WallClock(now: 0, readOffset: { -5_000 })
        #expect(clock.unixNanoseconds(1_000, now: 0) == 0)
        #expect(clock.unixNanoseconds(UInt64.max, now: 0) > 0)
    }
}
