/// Unix time of the kernel's monotonic timestamps (bpf_ktime_get_ns counts
/// CLOCK_MONOTONIC). The offset between the two clocks moves whenever the
/// wall clock is stepped (NTP, a paused VM), so one taken at start would
/// stamp every later alert off by the step: it is re-read when it is older
/// than `refreshNs`, which costs two clock reads a second at most.
public struct WallClock {
    /// Reads `CLOCK_REALTIME - CLOCK_MONOTONIC` now (injected: tests step it).
    private let readOffset: () -> Int64
    private let refreshNs: UInt64
    private var offset: Int64
    private var readAtNs: UInt64

    /// `now`: the monotonic time the first offset is read at.
    public init(now: UInt64, refreshNs: UInt64 = 1_000_000_000, readOffset: @escaping () -> Int64) {
        self.readOffset = readOffset
        self.refreshNs = refreshNs
        offset = readOffset()
        readAtNs = now
    }

    /// Unix nanoseconds of the monotonic `timestamp`, with the offset current
    /// at `now` (monotonic): a timestamp from before a step is placed where
    /// the corrected wall clock puts it.
    public mutating func unixNanoseconds(_ timestamp: UInt64, now: UInt64) -> UInt64 {
        if now &- readAtNs >= refreshNs {
            offset = readOffset()
            readAtNs = now
        }
        let unix = Int64(clamping: timestamp) &+ offset
        return unix > 0 ? UInt64(unix) : 0
    }
}
