/// Turns kernel drops into alerts: `blocklist_hit` for a blocklisted remote,
/// `quarantine_drop` for a quarantined pod's new flow (what happened, so that
/// the consequences of a response are not read as a blocklist match).
/// Stateless: every drop is an occurrence, the deduplicator folds the repeats.
public struct BlocklistDetector: Sendable {
    public init() {}

    public func observe(_ drop: DropEvent, now: UInt64) -> [Alert] {
        let evidence = BlocklistEvidence(
            matchedPrefix: drop.matchedPrefix,
            reason: drop.reason,
            remote: drop.key.remote,
            remotePort: drop.key.remotePort,
            proto: drop.key.proto)
        var source = AlertSource(drop.key.source)
        source.process = drop.process
        source.cgroupId = drop.process?.cgroupId
        let quarantined = drop.reason == .quarantine
        return [
            Alert(
                kind: quarantined ? .quarantineDrop : .blocklistHit,
                // A quarantined pod knocking is expected; a pod reaching for a known-bad address is not.
                severity: quarantined ? .medium : .high,
                source: source,
                flows: [drop.key],
                evidence: quarantined ? .quarantineDrop(evidence) : .blocklistHit(evidence),
                decidingNs: drop.timestampNs,
                now: now)
        ]
    }

    public func tick(now: UInt64) -> [Alert] { [] }
}
