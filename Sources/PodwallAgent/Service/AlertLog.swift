import Foundation
import PodwallDetection
import Synchronization

/// The most recent alerts, as written, for `GET /v1/alerts`.
final class AlertLog: Sendable {
    struct Entry {
        let kind: String
        let timeNs: UInt64
        /// Source address, interface and pod name: what `pod=` matches.
        let names: Set<String>
        let json: String
    }

    private let capacity: Int
    private let entries = Mutex<[Entry]>([])

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func append(_ alert: Alert, json: String) {
        let names = Set([alert.source.address.description, alert.source.interface, alert.source.podName].compactMap { $0 })
        entries.withLock { entries in
            entries.append(Entry(kind: alert.kind.rawValue, timeNs: alert.timeNs, names: names, json: json))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }

    /// Newest last; at most `limit`, the newest ones.
    func query(kind: String?, pod: String?, sinceNs: UInt64?, limit: Int) -> [String] {
        let matching = entries.withLock {
            $0.filter { entry in
                (kind.map { $0 == entry.kind } ?? true) && (pod.map { entry.names.contains($0) } ?? true)
                    && (sinceNs.map { entry.timeNs >= $0 } ?? true)
            }
        }
        return matching.suffix(limit).map(\.json)
    }
}
