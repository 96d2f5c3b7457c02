import Testing

@testable import PodwallCore

/// Which program opened a flow, from the flow's pid and first-seen time.
struct ProcessAttributionTests {
    let java = TestProcess(pid: 100, parent: 1, startMs: 0)
    let child = TestProcess(pid: 200, parent: 100, startMs: 10)

    @Test func connectBeforeExecStaysWithTheProgramThatConnected() {
        // `nc -e sh`: nc connects at 15 ms, then execs the shell on the socket at 20 ms.
        var cache = ProcessCache()
        cache.apply([java.exec("java", atMs: 1), child.forked, child.exec("nc", atMs: 12), child.exec("sh", atMs: 20)])
        #expect(cache.attribute(pid: 200, at: ms(15)) == child.execID(atMs: 12))
        #expect(cache.current(pid: 200)?.comm == "sh", "what a pid lookup alone would have blamed")
        cache.apply(child.exit(atMs: 40))
        #expect(cache.attribute(pid: 200, at: ms(15)) == child.execID(atMs: 12), "after the exit too, until collected")
        #expect(cache.lineage(of: child.execID(atMs: 20)) == "java -> nc -> sh")
    }

    @Test func execBeforeConnectGoesToTheNewProgram() {
        var cache = ProcessCache()
        cache.apply([java.exec("java", atMs: 1), child.forked, child.exec("curl", atMs: 12)])
        #expect(cache.attribute(pid: 200, at: ms(13)) == child.execID(atMs: 12))
        #expect(cache.attribute(pid: 200, at: ms(11)) == child.forkID, "before the exec: the fork's copy of java")
        #expect(cache.attribute(pid: 100, at: ms(13)) == java.execID(atMs: 1))
    }

    @Test func aReusedPidAttributesByTime() {
        var cache = ProcessCache()
        let reused = TestProcess(pid: 200, parent: 100, startMs: 500)
        cache.apply([java.exec("java", atMs: 1), child.forked, child.exec("a", atMs: 12), child.exit(atMs: 30)])
        cache.apply([reused.forked, reused.exec("b", atMs: 501)])
        #expect(cache.attribute(pid: 200, at: ms(20)) == child.execID(atMs: 12))
        #expect(cache.attribute(pid: 200, at: ms(600)) == reused.execID(atMs: 501))
    }

    @Test func aFlowBeforeAnyKnownProgramIsAMiss() {
        var cache = ProcessCache()
        cache.apply([java.exec("java", atMs: 5)])
        #expect(cache.attribute(pid: 100, at: ms(4)) == nil)
        #expect(cache.attribute(pid: 300, at: ms(6)) == nil)
        #expect(cache.statistics.misses == 2)
    }
}
