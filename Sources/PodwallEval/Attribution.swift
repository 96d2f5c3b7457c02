/// Which scenario a line of a shared alerts file belongs to.
///
/// With one agent for the whole run, one alerts file holds every scenario's
/// alerts, and a line written during a scenario need not be about it: an
/// update of an earlier incident is flushed up to `alerts.update_interval`
/// after its last repeat. A line is attributed by *when its newest occurrence
/// was decided* (`AlertLine.occurrenceNs`: a fresh alert's time, an update's
/// `last_seen_ns`), not by when it was written:
///
/// - decided before the scenario started: an earlier incident reported late
///   (`earlier`), counted for no one; the runner leaves a gap between
///   scenarios longer than any detector takes to decide after the traffic
///   (the scan detector's 3 s reply timeout), so an earlier scenario's traffic
///   is decided before the next one starts;
/// - decided during the scenario, of the expected kind and from the attacker:
///   the first such line is the `detection`, whether a fresh alert or an
///   update of an alert of an earlier scenario (the same pod doing it again
///   inside the agent's dedup window; its response is re-applied); later ones
///   are `repeats`;
/// - a quarantine's drops, and blocklist hits on what a line of this scenario
///   blocked: `followUp`s, when this scenario's own lines asked for that response
///   (the attacker's next packets; in a benign scenario they would be harm),
///   wherever that line stands in the file: the agent writes a line once its
///   response is in force, so the response's first drops may be written first;
/// - a further line of an incident this scenario already has: a `repeat`;
/// - a line of a kind the scenario raises by design besides the expected one
///   (`EvalScenario.accepted`: the `network_tool` alert of the nc in
///   `mkfifo` + `nc`), from the attacker, or one the background load raises
///   by design (`loadAlerts`: the attacker pod's `flood` under `--load`):
///   `accepted`, counted apart;
/// - anything else decided during the scenario: a `falseAlert`.
///
/// A baseline scenario plays in a pod of its own, known to the agent by its
/// cgroup only (no interface, no address): its lines are the attacker's by
/// pod name (`attackerPod`), and only a line naming the one binary it should
/// report (`expectedBinary`, a basename) detects; another binary reported is
/// a false alert (a program the workload ran while learning).
///
/// Alerts are counted as incidents (distinct ids), not lines.
public enum Attribution {
    public enum Role: String, Sendable, Equatable {
        case detection, repeats, followUp, accepted, falseAlert, earlier
    }

    public struct Verdict: Sendable, Equatable {
        /// Each line's role, in the order given.
        public var roles: [Role]
        /// The index of the detecting line.
        public var detection: Int?
        /// Distinct alert ids.
        public var followUps: Int
        public var falseAlerts: Int
        /// Distinct alert ids of the accepted kinds.
        public var acceptedAlerts: Int = 0
        /// Lines of earlier incidents reported during this scenario.
        public var earlierLines: Int
        /// Distinct alert ids of the expected kind from the attacker, whatever they name.
        public var expectedKindAlerts: Int = 0
    }

    /// - Parameters:
    ///   - lines: the lines written since the scenario's window opened, in file order.
    ///   - startNs: when the scenario started (Unix ns, CLOCK_REALTIME).
    ///   - expected: the alert kind the scenario should raise; nil for benign.
    ///   - attacker: the address of the pod that plays the scenario.
    ///   - accepted: other kinds the scenario raises by design.
    ///   - attackerPod: the attacker's pod name, which then decides instead of its address.
    ///   - expectedBinary: the program (basename) the detecting alert names.
    ///   - loadAlerts: kinds the background load raises, by the host interface of the pod that
    ///     raises them (a flood alert names its pod by interface: no flow carries its address).
    public static func attribute(
        _ lines: [AlertLine], startNs: Int64,
        expected: String?, attacker: String, accepted: [String] = [],
        attackerPod: String? = nil, expectedBinary: String? = nil, loadAlerts: [String: String] = [:]
    ) -> Verdict {
        func fromAttacker(_ line: AlertLine) -> Bool {
            attackerPod.map { line.podName == $0 } ?? (line.sourceAddress == attacker)
        }
        func namesExpectedBinary(_ line: AlertLine) -> Bool {
            guard let expectedBinary else { return true }
            return line.binary?.split(separator: "/").last.map(String.init) == expectedBinary
        }
        var roles: [Role] = []
        var detection: Int?
        var ownIDs = Set<String>()
        let current = lines.filter { $0.occurrenceNs >= startNs }
        let quarantined = current.contains(where: \.quarantined)
        let blocked = Set(current.flatMap(\.blocked))
        var followUpIDs = Set<String>(), falseIDs = Set<String>(), acceptedIDs = Set<String>(), expectedIDs = Set<String>()
        for (index, line) in lines.enumerated() {
            let role: Role
            if line.occurrenceNs >= startNs && line.kind == expected && fromAttacker(line) { expectedIDs.insert(line.id) }
            if line.occurrenceNs < startNs {
                role = .earlier
            } else if line.kind == expected && fromAttacker(line) && namesExpectedBinary(line) {
                role = detection == nil ? .detection : .repeats
                if detection == nil { detection = index }
            } else if line.kind == "quarantine_drop" && quarantined
                || line.kind == "blocklist_hit" && blocked.contains(line.remote ?? "")
            {
                role = .followUp
                followUpIDs.insert(line.id)
            } else if accepted.contains(line.kind) && fromAttacker(line)
                || line.kind != expected && loadAlerts[line.kind].map({ $0 == line.sourceInterface }) == true
            {
                role = .accepted
                acceptedIDs.insert(line.id)
            } else if ownIDs.contains(line.id) {
                role = .repeats
            } else {
                role = .falseAlert
                falseIDs.insert(line.id)
            }
            if role != .earlier { ownIDs.insert(line.id) }
            roles.append(role)
        }
        falseIDs.subtract(followUpIDs)
        falseIDs.subtract(acceptedIDs)
        if let detection { falseIDs.remove(lines[detection].id) }
        return Verdict(
            roles: roles, detection: detection, followUps: followUpIDs.count, falseAlerts: falseIDs.count,
            acceptedAlerts: acceptedIDs.count, earlierLines: roles.count { $0 == .earlier }, expectedKindAlerts: expectedIDs.count)
    }
}
