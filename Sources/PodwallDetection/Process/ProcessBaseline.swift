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

    public var config: Config {
        didSet {
            learned.learningNs = config.learningNs
            learned.maxWorkloads = config.maxWorkloads
            learned.maxItems = config.maxBinaries
        }
    }
    private var learned: WorkloadBaseline

    public init(config: Config = Config()) {
        self.config = config
        learned = WorkloadBaseline(learningNs: config.learningNs, maxWorkloads: config.maxWorkloads, maxItems: config.maxBinaries)
    }

    /// nil while learning, for a known or allowed binary, and once a binary was reported.
    mutating func observe(_ exec: ExecRecord, workload name: String) -> ProcessEvidence? {
        let binary = exec.filename
        let basename = String(binary.split(separator: "/").last ?? Substring(binary))
        guard !config.allowed.contains(binary), !config.allowed.contains(basename),
            learned.isNew(binary, workload: name, at: exec.timestampNs)
        else { return nil }
        return ProcessEvidence(kind: .unexpectedProcess, technique: .notInBaseline, exec: exec)
    }

    /// Workloads learned or learning.
    public var workloadCount: Int { learned.workloadCount }
}
