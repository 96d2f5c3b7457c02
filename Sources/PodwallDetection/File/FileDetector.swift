import PodwallCore

/// Judges what pods do to files and to their container's walls: writes
/// under sensitive paths and reads of secrets (each against what the
/// workload did while its baseline was learned), breakout attempts
/// (always), and programs a pod brought in and ran. Pure: the caller names
/// the pod and process (`source`) and performs the responses.
public struct FileDetector: Sendable {
    public var rules: FileRules
    /// Writes (by rule) and reads (by rule and program) each workload made
    /// while learning; the window is the process baseline's, opened when
    /// podwall first sees the workload (its first exec, or a watched file
    /// operation before any).
    private var learned: WorkloadBaseline

    public init(rules: FileRules = FileRules(), learningNs: UInt64 = ProcessBaseline.Config().learningNs) {
        self.rules = rules
        learned = WorkloadBaseline(learningNs: learningNs, maxWorkloads: 4096, maxItems: 1024)
    }

    public var learningNs: UInt64 {
        get { learned.learningNs }
        set { learned.learningNs = newValue }
    }

    /// A file operation the kernel reported.
    public mutating func observe(_ event: FileEvent, source: AlertSource, now: UInt64) -> Alert? {
        if event.operation == .script { return droppedScript(event, source: source, now: now) }
        let path = event.unresolved ? FileRules.normalized(event.target ?? event.path) : (event.target ?? event.path)
        if event.outsideRoot { return breakout(event, technique: .outsideRoot, rule: nil, source: source, now: now) }
        if event.operation != .read, let name = rules.breakoutName(of: path) {
            return breakout(event, technique: .breakoutPath, rule: name, source: source, now: now)
        }
        guard let rule = rules.rule(id: event.unresolved ? nil : event.ruleID, path: path) else { return nil }
        let workload = Self.workload(of: source)
        let kind: AlertKind
        let severity: Severity
        if rule.access.contains(.breakout), event.operation != .read {
            return breakout(event, technique: .breakoutPath, rule: rule.path, source: source, now: now)
        } else if event.operation == .read {
            guard rule.access.contains(.read),
                learned.isNew("read \(rule.path) \(event.comm)", workload: workload, at: event.timestampNs) || !isLearning
            else { return nil }
            (kind, severity) = (.sensitiveRead, .high)
        } else {
            guard rule.access.contains(.write) || rule.access.contains(.kill),
                event.killed || learned.isNew("write \(rule.path)", workload: workload, at: event.timestampNs) || !isLearning
            else { return nil }
            (kind, severity) = (.sensitiveWrite, event.killed ? .high : .medium)
        }
        return Self.alert(
            Self.evidence(event, kind: kind, technique: event.operation.rawValue, rule: rule.path), severity: severity, source: source,
            now: now)
    }

    /// A file operation that is a breakout: never learned.
    func breakout(_ event: FileEvent, technique: BreakoutTechnique, rule: String?, source: AlertSource, now: UInt64) -> Alert {
        Self.alert(
            Self.evidence(event, kind: .breakout, technique: technique.rawValue, rule: rule), severity: .critical, source: source, now: now)
    }

    static func evidence(_ event: FileEvent, kind: AlertKind, technique: String, rule: String?) -> FileEvidence {
        let moved = event.operation == .rename || event.operation == .link || event.operation == .symlink
        var evidence = FileEvidence(
            kind: kind, technique: technique, comm: event.comm, path: moved ? event.target : event.path,
            source: moved ? event.path : nil, rule: rule, argument: event.mode == 0 ? nil : UInt64(event.mode), killed: event.killed,
            eventNs: event.timestampNs)
        evidence.inode = event.inode
        // Outside its root, the kernel's path is already the namespace's.
        evidence.hostPath = event.outsideRoot ? nil : event.hostRoot.flatMap { root in evidence.path.map { root == "/" ? $0 : root + $0 } }
        return evidence
    }

    /// A breakout syscall: always reported.
    public func observe(_ attempt: BreakoutAttempt, source: AlertSource, now: UInt64) -> Alert {
        let detail = attempt.targetPid.map { "pid \($0)" } ?? attempt.detail
        let evidence = FileEvidence(
            kind: .breakout, technique: attempt.technique.rawValue, comm: attempt.comm, path: attempt.path,
            argument: attempt.argument == 0 ? nil : attempt.argument, detail: detail, killed: attempt.killed, eventNs: attempt.timestampNs)
        return Self.alert(evidence, severity: .critical, source: source, now: now)
    }

    /// A program the pod brought in: fileless or in a no-exec directory
    /// always; written elsewhere by a pod, unless the workload ran it while
    /// learning. Every exec comes here, and a workload's first opens its
    /// window: its first watched file operation, maybe hours later, is not learned.
    public mutating func observe(_ exec: ExecRecord, source: AlertSource, now: UInt64) -> Alert? {
        let workload = Self.workload(of: source)
        learned.open(workload, at: exec.timestampNs)
        guard let dropped = exec.dropped else { return nil }
        guard
            reportsDrop(
                exec.filename, always: dropped.fileless || dropped.inNoExecDirectory || exec.killedAtExec, workload: workload,
                at: exec.timestampNs)
        else { return nil }
        let writer = dropped.writerPid.map { pid in "written by \(dropped.writerComm ?? "?") (pid \(pid))" }
        let evidence = FileEvidence(
            kind: .dropExecute, technique: dropped.fileless ? "fileless" : "pod_written", comm: exec.comm, path: exec.filename,
            rule: dropped.inNoExecDirectory ? rules.rule(id: nil, path: exec.filename)?.path : nil, detail: writer,
            killed: exec.killedAtExec, eventNs: exec.timestampNs)
        return Self.alert(evidence, severity: exec.killedAtExec ? .critical : .high, source: source, now: now)
    }

    /// A pod-written `#!` script its interpreter opened: judged as an exec
    /// of a dropped program (in a no-exec directory always, killed there
    /// when the response is kill; elsewhere unless the workload ran it
    /// while learning).
    mutating func droppedScript(_ event: FileEvent, source: AlertSource, now: UInt64) -> Alert? {
        let workload = Self.workload(of: source)
        let rule = rules.rule(id: event.ruleID, path: event.path)
        let inNoExecDirectory = rule?.access.contains(.noExec) ?? false
        guard reportsDrop(event.path, always: inNoExecDirectory || event.killed, workload: workload, at: event.timestampNs) else {
            return nil
        }
        let evidence = Self.evidence(event, kind: .dropExecute, technique: "pod_written_script", rule: inNoExecDirectory ? rule?.path : nil)
        return Self.alert(evidence, severity: event.killed ? .critical : .high, source: source, now: now)
    }

    /// Whether a dropped program (or script) run at `path` is reported: `always`
    /// (fileless, in a no-exec directory, killed), else unless the workload
    /// ran it while learning.
    private mutating func reportsDrop(_ path: String, always: Bool, workload: String, at ns: UInt64) -> Bool {
        always || learned.isNew("exec \(path)", workload: workload, at: ns) || !isLearning
    }

    /// With no baseline (learning off), every watched write and read is reported.
    private var isLearning: Bool { learned.learningNs > 0 }

    /// Learned per workload: its pods by name, else its container's cgroup.
    static func workload(of source: AlertSource) -> String {
        source.podName.map(WorkloadName.of(pod:)) ?? source.process?.cgroupPath ?? "cgroup \(source.cgroupId ?? 0)"
    }

    static func alert(_ evidence: FileEvidence, severity: Severity, source: AlertSource, now: UInt64) -> Alert {
        Alert(
            kind: evidence.kind, severity: severity, source: source, flows: [], evidence: .file(evidence), decidingNs: evidence.eventNs,
            now: now)
    }
}
