import Testing

@testable import PodwallCore

/// /proc/<pid>/{stat,cmdline,cgroup,status} as the agent reads them at start.
struct ProcStatusTests {
    /// A stat line: fields 5-21 zero, starttime (field 22) then the rest.
    func stat(pid: String = "4242", comm: String, parent: String = "17", startTicks: String = "12345") -> String {
        let middle = Array(repeating: "0", count: 17).joined(separator: " ")
        return "\(pid) (\(comm)) S \(parent) \(middle) \(startTicks) 1024 300 18446744073709551615 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
    }

    let v2 = "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope\n"

    @Test func aPlainStatLine() throws {
        let status = try #require(
            ProcStatus.parse(stat: stat(comm: "java"), cmdline: Array("java\0-jar\0app.jar\0".utf8), cgroup: v2, ticksPerSecond: 100))
        #expect(status.pid == 4242 && status.parentPid == 17 && status.comm == "java")
        #expect(status.startNs == 123_450_000_000)
        #expect(status.arguments == ["java", "-jar", "app.jar"])
        #expect(status.cgroupPath == "/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope")
    }

    @Test func aCommWithSpacesAndParenthesesIsReadToTheLastParenthesis() throws {
        for comm in ["my proc", "a) S 99 (b", "((x))", ") ", ""] {
            let status = try #require(ProcStatus.parse(stat: stat(comm: comm), cmdline: [], cgroup: v2, ticksPerSecond: 100))
            #expect(status.comm == comm)
            #expect(status.parentPid == 17)
            #expect(status.startNs == 123_450_000_000)
        }
    }

    @Test func aKernelThreadHasNoArguments() throws {
        let status = try #require(ProcStatus.parse(stat: stat(comm: "kworker/0:1"), cmdline: [], cgroup: "0::/\n", ticksPerSecond: 100))
        #expect(status.arguments.isEmpty)
        #expect(status.cgroupPath == "/")
    }

    @Test func argumentsKeepEmptyOnesAndAMissingFinalNul() {
        #expect(ProcStatus.arguments(cmdline: Array("sh\0\0-c\0".utf8)) == ["sh", "", "-c"])
        #expect(ProcStatus.arguments(cmdline: Array("nginx: worker process".utf8)) == ["nginx: worker process"])
        #expect(ProcStatus.arguments(cmdline: [0]) == [""])
    }

    @Test func theV2LineIsFoundInAHybridFile() {
        let hybrid = "12:memory:/kubepods/pod1/ab\n1:name=systemd:/kubepods/pod1/ab\n0::/kubepods/pod1/ab\n"
        #expect(ProcStatus.cgroupV2Path(hybrid) == "/kubepods/pod1/ab")
        #expect(ProcStatus.cgroupV2Path("12:memory:/kubepods/pod1/ab\n11:cpu,cpuacct:/kubepods/pod1/ab\n") == nil)
    }

    @Test func startTicksAtOtherRatesAndTheirLimit() {
        #expect(ProcStatus.nanoseconds(ticks: 1, perSecond: 250) == 4_000_000)
        #expect(ProcStatus.nanoseconds(ticks: UInt64.max / 1_000, perSecond: 1_000_000) > 0, "no overflow trap")
    }

    @Test func malformedLinesAreRejected() {
        #expect(ProcStatus.parse(stat: "", cmdline: [], cgroup: v2, ticksPerSecond: 100) == nil)
        #expect(ProcStatus.parse(stat: "4242 (java S 17", cmdline: [], cgroup: v2, ticksPerSecond: 100) == nil)
        #expect(ProcStatus.parse(stat: "4242 (java) S 17 0 0", cmdline: [], cgroup: v2, ticksPerSecond: 100) == nil)
        #expect(ProcStatus.parse(stat: stat(comm: "java", parent: "x"), cmdline: [], cgroup: v2, ticksPerSecond: 100) == nil)
        #expect(ProcStatus.parse(stat: stat(pid: "42 43", comm: "java"), cmdline: [], cgroup: v2, ticksPerSecond: 100) == nil)
        #expect(ProcStatus.parse(stat: stat(comm: "java"), cmdline: [], cgroup: v2, ticksPerSecond: 0) == nil)
    }

    @Test func theNamespacePidIsNSpidsLastValue() {
        let status = "Name:\tsh\nTgid:\t4242\nNSpid:\t4242\t31\nNSpgid:\t4242\t31\n"
        #expect(ProcStatus.namespacePid(status: status) == 31)
        #expect(ProcStatus.namespacePid(status: "NSpid:\t4242\n") == 4242)
        #expect(ProcStatus.namespacePid(status: "Name:\tsh\n") == nil)
    }

    @Test func aRunningProcessIsBuiltFromItsStatus() throws {
        let status = try #require(ProcStatus.parse(stat: stat(comm: "sh"), cmdline: Array("sh\0".utf8), cgroup: v2, ticksPerSecond: 100))
        let process = RunningProcess(status, filename: "/bin/busybox", cgroupID: 99, namespacePid: 31)
        #expect(process.identity == ProcessIdentity(pid: 4242, namespacePid: 31, parentPid: 17, cgroupID: 99, startNs: 123_450_000_000))
        #expect(process.filename == "/bin/busybox" && process.arguments == ["sh"])
    }
}
