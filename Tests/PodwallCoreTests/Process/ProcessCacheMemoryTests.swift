import Testing

@testable import PodwallCore

/// Exited programs are freed after the grace period, not while a
/// descendant needs them, and the cache stays bounded under pod churn.
struct ProcessCacheMemoryTests {
    static let second: UInt64 = 1_000_000_000

    @Test func anExitedEntryIsFreedOnlyAfterItsGracePeriod() {
        var cache = ProcessCache()
        let job = TestProcess(pid: 300, parent: 1, startMs: 0)
        cache.apply([job.exec("job", atMs: 1), job.exit(atMs: 1_000)])
        cache.collect(now: ms(1_000) + 29 * Self.second)
        #expect(cache.current(pid: 300)?.comm == "job", "a late lookup still finds it")
        cache.collect(now: ms(1_000) + 30 * Self.second)
        #expect(cache.current(pid: 300) == nil)
        #expect(cache.statistics.collected == 1 && cache.statistics.entries == 0)
        #expect(cache.isConsistent)
    }

    @Test func ancestryStaysCompleteWhileADescendantLives() {
        var cache = ProcessCache()
        let java = TestProcess(pid: 100, parent: 1, startMs: 0)
        let shell = TestProcess(pid: 200, parent: 100, startMs: 10)
        let sleeper = TestProcess(pid: 300, parent: 200, startMs: 20)
        cache.apply([java.exec("java", atMs: 1), shell.forked, shell.exec("sh", atMs: 11), sleeper.forked, sleeper.exec("sleep", atMs: 21)])
        cache.apply([shell.exit(atMs: 1_000), java.exit(atMs: 1_000)])
        cache.collect(now: 100 * Self.second)
        let sleep = sleeper.execID(atMs: 21)
        #expect(cache.lineage(of: sleep) == "java -> sh -> sleep")
        #expect(cache.statistics.collected == 0 && cache.pinnedCount == 3, "java, sh's clone, sh")

        cache.apply(sleeper.exit(atMs: 200_000))
        cache.collect(now: 229 * Self.second)
        #expect(cache.statistics.entries == 5, "the sleeper's own grace period")
        cache.collect(now: 230 * Self.second)
        #expect(cache.statistics.entries == 0, "freed up the chain at once")
        #expect(cache.statistics.collected == 5 && cache.statistics.evictions == 0)
        #expect(cache.isConsistent)
    }

    @Test func beyondMaxEntriesExitedGoFirstThenTheOldestLive() {
        var cache = ProcessCache(configuration: .init(maxEntries: 3))
        let a = TestProcess(pid: 1, parent: 0, startMs: 0)
        let b = TestProcess(pid: 2, parent: 0, startMs: 1)
        let c = TestProcess(pid: 3, parent: 0, startMs: 2)
        let d = TestProcess(pid: 4, parent: 0, startMs: 3)
        let e = TestProcess(pid: 5, parent: 0, startMs: 4)
        cache.apply([a.forked, b.forked, c.forked, c.exit(atMs: 5), b.exit(atMs: 6), d.forked])
        #expect(cache.entry(c.forkID) == nil, "the oldest exit")
        #expect(cache.entry(b.forkID) != nil)
        cache.apply(e.forked)
        #expect(cache.entry(b.forkID) == nil)
        cache.apply(TestProcess(pid: 6, parent: 0, startMs: 5).forked)
        #expect(cache.entry(a.forkID) == nil, "the oldest live")
        #expect(cache.statistics.evictions == 3 && cache.statistics.entries == 3)
        #expect(cache.isConsistent)
    }

    /// A million short-lived processes (one in ten losing its exit) through
    /// a cache of 10,000: never above the bound, counts add up, and the
    /// tables' capacity peaks no higher in the second half than in the first.
    /// With a 100 ms grace period the exited outnumber the bound (evictions);
    /// with 20 ms collection alone keeps it.
    @Test(arguments: zip([UInt64(100), 20], [true, false]))
    func aMillionShortLivedProcessesStayWithinTheBound(graceMs: UInt64, underPressure: Bool) {
        let maxEntries = 10_000
        var cache = ProcessCache(configuration: .init(graceNs: ms(graceMs), maxEntries: maxEntries, maxTombstones: 1_000))
        cache.apply(TestProcess(pid: 1, parent: 0, startMs: 0).exec("pause", atMs: 0))
        let total = 1_000_000
        var peaks = [0, 0]
        for index in 0..<total {
            let startNs = UInt64(index + 1) * 20_000  // 50,000 forks a second
            let process = ProcessIdentity(pid: 2 + UInt32(index % 30_000), namespacePid: 0, parentPid: 1, cgroupID: 7, startNs: startNs)
            cache.apply(.fork(process, timestampNs: startNs, comm: "sh"))
            if index % 4 == 0 {
                cache.apply(
                    .exec(
                        ExecRecord(
                            process: process, timestampNs: startNs + 1_000, comm: "curl", filename: "/usr/bin/curl", arguments: ["curl"],
                            stdio: [])))
            }
            if index % 10 != 0 { cache.apply(.exit(process, timestampNs: startNs + 5_000_000, exitCode: 0, comm: "sh")) }
            if index % 1_000 == 0 { cache.collect(now: startNs) }
            if cache.slots.count > maxEntries { Issue.record("\(cache.slots.count) entries at \(index)") }
            peaks[index * 2 / total] = max(peaks[index * 2 / total], capacity(cache))
        }
        let statistics = cache.statistics
        #expect(statistics.inserted == total + total / 4 + 1)
        #expect(statistics.inserted == statistics.entries + statistics.evictions + statistics.collected)
        #expect(statistics.collected > 0)
        #expect((statistics.evictions > 0) == underPressure, "\(statistics)")
        #expect(statistics.inferredExits > 0, "the lost exits, found when their pid came back")
        #expect(peaks[1] <= peaks[0] + peaks[0] / 10, "no growth: peaks \(peaks)")
        #expect(peaks[1] <= 12 * maxEntries)
        #expect(cache.isConsistent)
    }

    /// Room the cache holds for stamps, index rows and entries.
    private func capacity(_ cache: ProcessCache) -> Int {
        cache.insertionOrder.storage.capacity + cache.exitOrder.storage.capacity + cache.pinned.storage.capacity
            + cache.tombstoneOrder.storage.capacity + cache.programsByPid.capacity + cache.slots.capacity
    }

    @Test func thePerEntryEstimateIsStatedAndBounded() {
        let statistics = ProcessCache().statistics
        #expect(statistics.estimatedBytesPerEntry > MemoryLayout<ProcessCache.Slot>.stride)
        #expect(statistics.estimatedBytesPerEntry <= statistics.worstCaseBytesPerEntry)
        #expect(statistics.worstCaseBytesPerEntry < 4_096)
        print(
            "process cache: \(statistics.estimatedBytesPerEntry) bytes per entry typical, \(statistics.worstCaseBytesPerEntry) at most; slot \(MemoryLayout<ProcessCache.Slot>.stride)"
        )
    }
}
