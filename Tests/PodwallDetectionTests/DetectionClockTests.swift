@testable import PodwallDetection
import Testing

@Suite struct DetectionClockTests {
    @Test func theSampleCadenceFollowsTheExfiltrationInterval() {
        #expect(DetectionCadence(exfiltrationIntervalNs: 10_000_000_000).sampleNs == 2_000_000_000, "at least every 2 s")
        #expect(DetectionCadence(exfiltrationIntervalNs: 4_000_000_000).sampleNs == 1_000_000_000, "four per interval")
        #expect(DetectionCadence(exfiltrationIntervalNs: 100_000_000).sampleNs == 250_000_000, "never below a tick")
    }

    @Test func everyTickAndSampleIsDueOnceInOrder() {
        var clock = DetectionClock(cadence: DetectionCadence(exfiltrationIntervalNs: 4_000_000_000))
        let ms: UInt64 = 1_000_000
        #expect(clock.advance(to: 1_000 * ms) == .init(ticks: [], sample: false), "the first call starts the clock")
        #expect(clock.advance(to: 1_200 * ms) == .init(ticks: [], sample: false))
        #expect(
            clock.advance(to: 1_800 * ms) == .init(ticks: [1_250 * ms, 1_500 * ms, 1_750 * ms], sample: false),
            "a late caller gets every tick it missed, at its own time")
        #expect(clock.advance(to: 2_000 * ms) == .init(ticks: [2_000 * ms], sample: true))
        #expect(clock.advance(to: 2_100 * ms).sample == false)
        #expect(clock.advance(to: 3_000 * ms).sample, "one sample interval after the last sample")
    }
}
