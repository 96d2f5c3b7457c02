import PodwallCore
import Testing

@testable import PodwallDetection

@Suite("Process baseline")
struct ProcessBaselineTests {
    static func exec(_ binary: String, at seconds: UInt64, pid: UInt32 = 100) -> ExecRecord {
        ExecRecord(
            process: ProcessIdentity(pid: pid, namespacePid: 1, parentPid: 1, cgroupID: 9, startNs: Clock.t0),
            timestampNs: Clock.t0 + seconds * Clock.s, comm: String(binary.split(separator: "/").last!), filename: binary,
            arguments: [binary], stdio: [.characterDevice, .pipe(inode: 1), .pipe(inode: 1)])
    }

    static var tenSeconds: ProcessBaseline.Config {
        var config = ProcessBaseline.Config()
        config.learningNs = 10 * Clock.s
        return config
    }

    @Test("a binary first run after the learning window is reported once; learned ones and allowed ones never")
    func afterLearning() {
        var config = Self.tenSeconds
        config.allowed = ["date"]
        var baseline = ProcessBaseline(config: config)
        #expect(baseline.observe(Self.exec("/usr/bin/python3", at: 0), workload: "shop/web") == nil)
        #expect(baseline.observe(Self.exec("/usr/bin/sh", at: 5), workload: "shop/web") == nil)
        #expect(baseline.observe(Self.exec("/usr/bin/sh", at: 20), workload: "shop/web") == nil, "learned")
        let evidence = baseline.observe(Self.exec("/usr/bin/id", at: 21), workload: "shop/web")
        #expect(evidence?.kind == .unexpectedProcess)
        #expect(evidence?.technique == .notInBaseline)
        #expect(evidence?.binary == "/usr/bin/id")
        #expect(baseline.observe(Self.exec("/usr/bin/id", at: 22), workload: "shop/web") == nil, "once per binary")
        #expect(baseline.observe(Self.exec("/usr/bin/date", at: 23), workload: "shop/web") == nil, "allowed by name")
    }

    @Test("each workload learns on its own, from when podwall first sees it")
    func perWorkload() {
        var baseline = ProcessBaseline(config: Self.tenSeconds)
        _ = baseline.observe(Self.exec("/usr/bin/python3", at: 0), workload: "shop/web")
        #expect(baseline.observe(Self.exec("/usr/bin/id", at: 30), workload: "shop/worker") == nil, "a new workload learns first")
        #expect(baseline.observe(Self.exec("/usr/bin/id", at: 31), workload: "shop/web") != nil)
        #expect(baseline.workloadCount == 2)
    }

    @Test("off with a window of 0; bounded in workloads")
    func offAndBounded() {
        var off = ProcessBaseline.Config()
        off.learningNs = 0
        var none = ProcessBaseline(config: off)
        #expect(none.observe(Self.exec("/usr/bin/id", at: 1000), workload: "a") == nil)
        var small = Self.tenSeconds
        small.maxWorkloads = 2
        var baseline = ProcessBaseline(config: small)
        for (index, name) in ["a", "b", "c", "d"].enumerated() { _ = baseline.observe(Self.exec("/x", at: UInt64(index)), workload: name) }
        #expect(baseline.workloadCount == 2)
    }

    @Test("pods of one Deployment, DaemonSet or StatefulSet are one workload")
    func workloadNames() {
        #expect(WorkloadName.of(pod: "shop/web-7d9f8b6c5d-x2k9p") == "shop/web")
        #expect(WorkloadName.of(pod: "shop/web-7d9f8b6c5d-bxkzq") == "shop/web")
        #expect(WorkloadName.of(pod: "kube-system/node-agent-4xk2m") == "kube-system/node-agent")
        #expect(WorkloadName.of(pod: "db/postgres-0") == "db/postgres")
        #expect(WorkloadName.of(pod: "shop/checkout") == "shop/checkout")
        #expect(WorkloadName.of(pod: "pwlab-1-2-pod1") == "pwlab-1-2-pod1", "a lab namespace's name is kept")
    }
}
