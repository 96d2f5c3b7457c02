/// Turns kernel drops (blocklisted destination, quarantined pod) into alerts.
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
        return [Alert(
            kind: .blocklistHit,
            // A quarantined pod knocking is expected; a pod reaching for a known-bad address is not.
            severity: drop.reason == .blocklist ? .high : .medium,
            source: source,
            flows: [drop.key],
            evidence: .blocklistHit(evidence),
            decidingNs: drop.timestampNs,
            now: now)]
    }

    public func tick(now: UInt64) -> [Alert] { [] }
}
