import Testing

@testable import PodwallCore

/// Recorded event streams, in order and reordered, through the cache.
struct ProcessCacheStreamTests {
    let java = TestProcess(pid: 100, parent: 1, startMs: 0)
    let worker = TestProcess(pid: 200, parent: 100, startMs: 10)

    @Test func forkExecExecExitKeepsEachProgramAndItsLineage() {
        var cache = ProcessCache()
        cache.apply([java.exec("java", atMs: 1), worker.forked, worker.exec("sh", atMs: 12), worker.exec("bash", atMs: 15)])
        let bash = worker.execID(atMs: 15)
        #expect(cache.current(pid: 200)?.execID == bash)
        #expect(cache.current(pid: 200)?.comm == "bash")
        let clone = cache.entry(worker.forkID)
        #expect(
            clone?.comm == "java" && clone?.filename == "/usr/bin/java" && clone?.origin == .fork, "a fork inherits its parent's program")
        #expect(cache.ancestry(of: bash).map(\.execID) == [worker.execID(atMs: 12), worker.forkID, java.execID(atMs: 1)])
        #expect(cache.lineage(of: bash) == "java -> sh -> bash")
        #expect(cache.statistics.parentMisses == 1, "java's parent (pid 1) is outside the pod")

        cache.apply(worker.exit(atMs: 20, code: 256))
        #expect(cache.current(pid: 200)?.exitedNs == ms(20), "found until collected")
        #expect(cache.current(pid: 200)?.exitCode == 256)
        #expect(cache.entry(worker.forkID)?.exitedNs == ms(20), "every program of the process ended with it")
        #expect(cache.entry(java.execID(atMs: 1))?.isExited == false)
        #expect(cache.statistics.live == 1 && cache.statistics.exited == 3)
        #expect(cache.isConsistent)
    }

    @Test func anExitBeforeAnExecMarksTheLateExecExited() {
        var cache = ProcessCache()
        cache.apply([java.exec("java", atMs: 1), worker.forked, worker.exit(atMs: 14, code: 9), worker.exec("sh", atMs: 12)])
        let sh = cache.entry(worker.execID(atMs: 12))
        #expect(sh?.exitedNs == ms(14) && sh?.exitCode == 9)
        #expect(sh?.parent == worker.forkID)
        #expect(cache.statistics.lateEvents == 1 && cache.statistics.live == 1)
        #expect(cache.isConsistent)
    }

    @Test func anExitOfAnUnknownProcessWaitsAsATombstoneForItsLateForkAndExec() {
        var cache = ProcessCache()
        cache.apply([java.exec("java", atMs: 1), worker.exit(atMs: 14)])
        #expect(cache.statistics.tombstones == 1 && cache.statistics.entries == 1)
        cache.apply([worker.forked, worker.exec("curl", atMs: 12)])
        #expect(cache.entry(worker.forkID)?.exitedNs == ms(14))
        #expect(cache.entry(worker.execID(atMs: 12))?.exitedNs == ms(14))
        #expect(cache.statistics.lateEvents == 2 && cache.statistics.live == 1)
        #expect(cache.lineage(of: worker.execID(atMs: 12)) == "java -> curl")

        cache.collect(now: ms(14) + 30_000_000_000)
        #expect(cache.statistics.tombstones == 0)
        #expect(cache.entry(worker.execID(atMs: 12)) == nil)
        #expect(cache.isConsistent)
    }

    @Test func aReusedPidStartsANewEntryAndTheOldStaysReachable() {
        var cache = ProcessCache()
        let reused = TestProcess(pid: 200, parent: 100, startMs: 500)
        cache.apply([java.exec("java", atMs: 1), worker.forked, worker.exec("a", atMs: 12), worker.exit(atMs: 20)])
        cache.apply([reused.forked, reused.exec("b", atMs: 501)])
        #expect(cache.current(pid: 200)?.comm == "b")
        #expect(cache.current(pid: 200)?.isExited == false)
        #expect(cache.entry(worker.execID(atMs: 12))?.exitedNs == ms(20))
        #expect(cache.lineage(of: reused.execID(atMs: 501)) == "java -> b")
        #expect(cache.statistics.inferredExits == 0)
        // A late duplicate exit of the old process leaves the new one alone.
        cache.apply(worker.exit(atMs: 20))
        #expect(cache.current(pid: 200)?.isExited == false)
        #expect(cache.isConsistent)
    }

    @Test func aReusedPidClosesTheProcessWhoseExitWasLost() {
        var cache = ProcessCache()
        let reused = TestProcess(pid: 200, parent: 100, startMs: 500)
        cache.apply([java.exec("java", atMs: 1), worker.forked, worker.exec("a", atMs: 12), reused.forked])
        #expect(cache.entry(worker.execID(atMs: 12))?.exitedNs == ms(500))
        #expect(cache.entry(worker.execID(atMs: 12))?.exitCode == nil, "inferred, not reported")
        #expect(cache.statistics.inferredExits == 2, "the fork's clone and the exec")
        #expect(cache.current(pid: 200)?.execID == reused.forkID)
        #expect(cache.isConsistent)
    }

    @Test func duplicatesAndAnExecBeforeItsForkAddNothing() {
        var cache = ProcessCache()
        cache.apply([java.exec("java", atMs: 1), java.exec("java", atMs: 1), worker.exec("sh", atMs: 12), worker.forked])
        #expect(cache.statistics.inserted == 2)
        #expect(cache.entry(worker.execID(atMs: 12))?.parent == java.execID(atMs: 1), "linked to the parent's program")
        #expect(cache.isConsistent)
    }

    @Test func lookupsThatFindNothingAreCountedAsMisses() {
        var cache = ProcessCache()
        cache.apply(java.exec("java", atMs: 1))
        _ = cache.current(pid: 100)
        _ = cache.current(pid: 999)
        _ = cache.entry(ExecID(pid: 100, execNs: 7))
        _ = cache.ancestry(of: ExecID(pid: 5, execNs: 5))
        _ = cache.attribute(pid: 100, at: 0)
        #expect(cache.statistics.lookups == 5 && cache.statistics.misses == 4)
    }

    @Test func aForkOfAnUnknownParentMakesNoPhantom() {
        var cache = ProcessCache()
        cache.apply(worker.forked)
        #expect(cache.statistics.entries == 1 && cache.statistics.parentMisses == 1)
        #expect(cache.entry(worker.forkID)?.parent == nil)
        #expect(cache.ancestry(of: worker.forkID).isEmpty)
    }

    @Test func seededProcessesAreParentsOfLaterEventsDespiteWholeTicks() {
        var cache = ProcessCache()
        // /proc says 0.12 s and 0.50 s; the kernel's exact starts were up to a tick later.
        cache.seed([
            RunningProcess(pid: 20, parentPid: 10, startNs: ms(500), comm: "sh", filename: "/bin/sh", arguments: ["sh"], cgroupID: 7),
            RunningProcess(pid: 10, parentPid: 1, startNs: ms(120), comm: "java", filename: "/usr/bin/java", arguments: [], cgroupID: 7)
        ])
        let sh = TestProcess(pid: 20, parent: 10, startMs: 504)
        cache.apply([sh.exec("bash", atMs: 900), sh.exit(atMs: 950)])
        #expect(cache.lineage(of: sh.execID(atMs: 900)) == "java -> sh -> bash")
        #expect(cache.entry(ExecID(pid: 20, execNs: ms(500)))?.exitedNs == ms(950), "the seeded program is the same process")
        #expect(cache.statistics.parentMisses == 0)

        // A process whose events came before the snapshot keeps its events' entry.
        cache.seed([RunningProcess(pid: 20, parentPid: 10, startNs: ms(500), comm: "sh", filename: "", arguments: [], cgroupID: 7)])
        #expect(cache.statistics.inserted == 3)
        #expect(cache.isConsistent)
    }

    @Test func textIsCutToTheBudget() {
        var cache = ProcessCache(configuration: .init(maxTextBytes: 8, maxArguments: 3))
        cache.apply(
            .exec(
                ExecRecord(
                    process: java.identity, timestampNs: 1, comm: "java", filename: "/usr/lib/jvm/bin/java",
                    arguments: ["java", "-classpath", "x"], stdio: [])))
        let entry = cache.entry(ExecID(pid: 100, execNs: 1))
        #expect(entry?.filename == "/usr/lib")
        #expect(entry?.arguments == ["java", "-cla"])
        #expect(entry?.argumentsTruncated == true)
    }
}
