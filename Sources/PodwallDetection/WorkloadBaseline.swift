/// What each workload does, learned for a window after podwall first sees
/// it (binaries it runs, files it writes or reads); after that, something
/// it never did is reported once. In memory: a restarted agent learns again.
struct WorkloadBaseline: Sendable {
    struct Workload {
        var learningUntilNs: UInt64
        var learned: Set<String> = []
        var reported: Set<String> = []
    }

    var learningNs: UInt64
    var maxWorkloads: Int
    /// Items learned, and items reported, per workload at most.
    var maxItems: Int
    private var workloads: [String: Workload] = [:]

    init(learningNs: UInt64, maxWorkloads: Int, maxItems: Int) {
        self.learningNs = learningNs
        self.maxWorkloads = maxWorkloads
        self.maxItems = maxItems
    }

    /// Opens the workload's learning window at `timeNs`, unless podwall saw it before.
    mutating func open(_ name: String, at timeNs: UInt64) {
        guard learningNs > 0, workloads[name] == nil, workloads.count < maxWorkloads else { return }
        workloads[name] = Workload(learningUntilNs: timeNs &+ learningNs)
    }

    /// True the first time `item` shows up after the workload's learning
    /// window; false while learning, for a learned item, and when off (0 ns).
    mutating func isNew(_ item: String, workload name: String, at timeNs: UInt64) -> Bool {
        open(name, at: timeNs)
        guard learningNs > 0, var workload = workloads[name] else { return false }
        defer { workloads[name] = workload }
        if timeNs < workload.learningUntilNs {
            if workload.learned.count < maxItems { workload.learned.insert(item) }
            return false
        }
        return !workload.learned.contains(item) && workload.reported.count < maxItems && workload.reported.insert(item).inserted
    }

    var workloadCount: Int { workloads.count }
}
