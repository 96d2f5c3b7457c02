import PodwallCore

/// What a workload runs, learned from its pods' execs for a window after
/// podwall first sees it; after that, a binary it never ran is an
/// `unexpected_process` alert (once per binary and workload), as
/// NeuVector's and KubeArmor's process profiles do. The baseline lives in
/// memory: a restarted agent learns again.
public struct ProcessBaseline: Sendable {
    public struct Config: Sendable, Equatable {
        /// How long a new workload's execs are learned; 0 turns the baseline off.
        public var learningNs: UInt64 = 600_000_000_000
        /// Binaries (paths, or names matching any path's basename) never alerted.
        public var allowed: Set<String> = []
        /// Bounds: workloads tracked and binaries per workload.
        public var maxWorkloads = 4096
        public var maxBinaries = 1024

        public init() {}
    }

    struct Workload {
        var learningUntilNs: UInt64
        var binaries: Set<String>
        /// Alerted already (each unexpected binary alerts once).
        var reported: Set<String> = []
    }

    public var config: Config
    private var workloads: [String: Workload] = [:]

    public init(config: Config = Config()) {
        self.config = config
    }

    /// nil while learning, for a known or allowed binary, and once a binary was reported.
    mutating func observe(_ exec: ExecRecord, workload name: String) -> ProcessEvidence? {
        guard config.learningNs > 0 else { return nil }
        let binary = exec.filename
        if workloads[name] == nil {
            guard workloads.count < config.maxWorkloads else { return nil }
            workloads[name] = Workload(learningUntilNs: exec.timestampNs &+ config.learningNs, binaries: [])
        }
        guard var workload = workloads[name] else { return nil }
        defer { workloads[name] = workload }
        if exec.timestampNs < workload.learningUntilNs {
            if workload.binaries.count < config.maxBinaries { workload.binaries.insert(binary) }
            return nil
        }
        let basename = String(binary.split(separator: "/").last ?? Substring(binary))
        guard !workload.binaries.contains(binary), !config.allowed.contains(binary), !config.allowed.contains(basename),
            workload.reported.count < config.maxBinaries, workload.reported.insert(binary).inserted
        else { return nil }
        return ProcessEvidence(kind: .unexpectedProcess, technique: .notInBaseline, exec: exec)
    }

    /// Workloads learned or learning.
    public var workloadCount: Int { workloads.count }
}
