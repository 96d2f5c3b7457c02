import PodwallCore
import Testing

@testable import PodwallDetection

struct FileDetectorTests {
    static let second: UInt64 = 1_000_000_000
    static let source = AlertSource(address: IPAddress("10.0.0.5")!, ifindex: 7, podName: "web-7d9f8-abcde")

    static func event(_ operation: FileOperation, _ path: String, comm: String = "app", at seconds: UInt64, rule: UInt32? = nil)
        -> FileEvent
    {
        FileEvent(
            process: ProcessIdentity(pid: 40, namespacePid: 4, parentPid: 1, cgroupID: 9, startNs: 1), timestampNs: seconds * second,
            comm: comm, operation: operation, path: path, ruleID: rule)
    }

    static func detector(learning seconds: UInt64 = 10) -> FileDetector {
        FileDetector(rules: FileRules(), learningNs: seconds * second)
    }

    @Test func normalizingResolvesDotsAndSlashesLexically() {
        #expect(FileRules.normalized("/etc/../etc//shadow") == "/etc/shadow")
        #expect(FileRules.normalized("/./root/.ssh/./") == "/root/.ssh/")
        #expect(FileRules.normalized("/../..") == "/")
    }

    @Test func theLongestRuleWinsAndRulesOfOnePathMerge() {
        let rules = FileRules()
        #expect(rules.rule(id: nil, path: "/etc/shadow")?.access == [.write, .read])
        #expect(rules.rule(id: nil, path: "/etc/cron.d/job")?.path == "/etc/cron")
        #expect(rules.rule(id: nil, path: "/proc/sys/kernel/core_pattern")?.access.contains(.breakout) == true)
        #expect(rules.rule(id: nil, path: "/var/log/app.log") == nil)
        #expect(rules.rules.count == Set(rules.rules.map(\.path)).count)
    }

    @Test func writesLearnedWhileLearningAreQuietAndANewOneAlertsOnce() {
        var detector = Self.detector()
        #expect(detector.observe(Self.event(.write, "/usr/bin/tool", at: 1), source: Self.source, now: 1) == nil, "an install, learning")
        #expect(detector.observe(Self.event(.write, "/usr/bin/other", at: 20), source: Self.source, now: 20) == nil, "same rule")
        var cron = Self.event(.write, "/etc/cron.d/job", at: 21)
        cron.hostRoot = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a/rootfs"
        cron.inode = 4242
        let alert = detector.observe(cron, source: Self.source, now: 21)
        #expect(alert?.kind == .sensitiveWrite)
        guard case .file(let evidence)? = alert?.evidence else { return }
        #expect(evidence.path == "/etc/cron.d/job" && evidence.rule == "/etc/cron" && evidence.technique == "write")
        #expect(evidence.inode == 4242, "the opened file, to find it on disk")
        #expect(evidence.hostPath == "/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a/rootfs/etc/cron.d/job")
        #expect(detector.observe(Self.event(.write, "/etc/cron.d/two", at: 22), source: Self.source, now: 22) == nil, "once")
    }

    @Test func aSecretReadIsJudgedPerProgramOfTheWorkload() {
        var detector = Self.detector()
        let token = "/run/secrets/kubernetes.io/serviceaccount/..data/token"
        #expect(detector.observe(Self.event(.read, token, comm: "app", at: 1), source: Self.source, now: 1) == nil)
        #expect(detector.observe(Self.event(.read, token, comm: "app", at: 30), source: Self.source, now: 30) == nil)
        let alert = detector.observe(Self.event(.read, token, comm: "cat", at: 31), source: Self.source, now: 31)
        #expect(alert?.kind == .sensitiveRead && alert?.severity == .high)
    }

    /// The window opens at the workload's first exec: a first watched
    /// operation after it (an attacker's, hours later) is not learned.
    @Test func theWindowOpensAtTheWorkloadsFirstExecNotAtItsFirstWatchedFile() {
        var detector = Self.detector()
        let start = ExecRecord(
            process: ProcessIdentity(pid: 40, namespacePid: 1, parentPid: 1, cgroupID: 9, startNs: 1), timestampNs: Self.second,
            comm: "app", filename: "/usr/bin/app", arguments: ["app"], stdio: [])
        #expect(detector.observe(start, source: Self.source, now: 1) == nil)
        let token = "/var/run/secrets/kubernetes.io/serviceaccount/..data/token"
        #expect(detector.observe(Self.event(.read, token, comm: "cat", at: 20), source: Self.source, now: 20)?.kind == .sensitiveRead)
        #expect(
            detector.observe(Self.event(.write, "/etc/shadow", comm: "sh", at: 21), source: Self.source, now: 21)?.kind == .sensitiveWrite)
    }

    @Test func aBreakoutPathIsABreakoutEvenWhileLearningAndUnresolvedNamesAreNormalized() {
        var detector = Self.detector()
        var write = Self.event(.write, "/proc/sys/kernel/../kernel/core_pattern", at: 1)
        write.unresolved = true
        let alert = detector.observe(write, source: Self.source, now: 1)
        #expect(alert?.kind == .breakout && alert?.severity == .critical)
        guard case .file(let evidence)? = alert?.evidence else { return }
        #expect(evidence.technique == "breakout_path" && evidence.rule == "/proc/sys/kernel/core_pattern")
    }

    @Test func aReleaseAgentIsABreakoutWhereverCgroupfsWasMounted() {
        var detector = Self.detector()
        let alert = detector.observe(Self.event(.write, "/tmp/cgrp/release_agent", at: 1, rule: 0xffff_ffff), source: Self.source, now: 1)
        #expect(alert?.kind == .breakout)
        #expect(detector.observe(Self.event(.read, "/tmp/cgrp/release_agent", at: 2), source: Self.source, now: 2) == nil)
    }

    @Test func aBreakoutSyscallAlwaysAlertsNamingItsTechnique() {
        let detector = Self.detector()
        let attempt = BreakoutAttempt(
            process: ProcessIdentity(pid: 40, namespacePid: 4, parentPid: 1, cgroupID: 9, startNs: 1), timestampNs: Self.second,
            comm: "nsenter", technique: .setns, argument: 0x20000, killed: true)
        let alert = detector.observe(attempt, source: Self.source, now: Self.second)
        #expect(alert.kind == .breakout)
        guard case .file(let evidence) = alert.evidence else { return }
        #expect(evidence.technique == "setns" && evidence.killed && evidence.comm == "nsenter")
        let policy = ResponsePolicy()
        #expect(policy.actions(for: alert) == [.quarantine(pod: Self.source.address, ifindex: 7, ttlSeconds: 3600)])
        var hostNetwork = Self.source
        hostNetwork.ifindex = 0
        let known = detector.observe(attempt, source: hostNetwork, now: Self.second)
        #expect(policy.actions(for: known) == [.none], "a pod without an interface: nothing to quarantine")
    }

    @Test func droppedProgramsAlertAtOnceWhenFilelessElseAfterLearning() {
        var detector = Self.detector()
        func exec(_ path: String, at seconds: UInt64, dropped: DroppedProgram?, killed: Bool = false) -> ExecRecord {
            ExecRecord(
                process: ProcessIdentity(pid: 41, namespacePid: 5, parentPid: 4, cgroupID: 9, startNs: 2),
                timestampNs: seconds * Self.second,
                comm: String(path.split(separator: "/").last!), filename: path, arguments: [path], stdio: [], killedAtExec: killed,
                dropped: dropped)
        }
        let written = DroppedProgram(fileless: false, writerPid: 40, writerComm: "pip", writtenNs: 1)
        #expect(detector.observe(exec("/usr/local/bin/tool", at: 1, dropped: written), source: Self.source, now: 1) == nil)
        #expect(detector.observe(exec("/usr/local/bin/tool", at: 20, dropped: written), source: Self.source, now: 20) == nil)
        #expect(detector.observe(exec("/opt/new", at: 21, dropped: written), source: Self.source, now: 21)?.kind == .dropExecute)
        #expect(detector.observe(exec("/usr/bin/ls", at: 22, dropped: nil), source: Self.source, now: 22) == nil)
        let memfd = detector.observe(
            exec("/proc/self/fd/3", at: 2, dropped: DroppedProgram(fileless: true), killed: true), source: Self.source, now: 2)
        #expect(memfd?.kind == .dropExecute && memfd?.severity == .critical)
        guard case .file(let evidence)? = memfd?.evidence else { return }
        #expect(evidence.technique == "fileless" && evidence.killed)
    }

    /// A `#!` script the pod wrote, opened by its interpreter (the kernel's
    /// `script` open): in a no-exec directory always (killed there), else
    /// as a dropped program is, after the workload's learning window.
    @Test func aPodWrittenScriptIsJudgedAsADroppedProgram() {
        var detector = FileDetector(
            rules: FileRules([FileRule("/tmp/", .noExec)]), learningNs: 10 * Self.second)
        var killed = Self.event(.script, "/tmp/.s", comm: ".s", at: 1)
        killed.killed = true
        let alert = detector.observe(killed, source: Self.source, now: 1)
        #expect(alert?.kind == .dropExecute && alert?.severity == .critical, "in the window too: a no-exec directory")
        guard case .file(let evidence)? = alert?.evidence else { return }
        #expect(evidence.technique == "pod_written_script" && evidence.killed && evidence.rule == "/tmp/" && evidence.path == "/tmp/.s")
        #expect(detector.observe(Self.event(.script, "/app/start.sh", at: 2), source: Self.source, now: 2) == nil, "learning")
        #expect(detector.observe(Self.event(.script, "/app/start.sh", at: 20), source: Self.source, now: 20) == nil, "learned")
        let late = detector.observe(Self.event(.script, "/app/new.sh", at: 21), source: Self.source, now: 21)
        #expect(late?.kind == .dropExecute && late?.severity == .high)
    }
}
