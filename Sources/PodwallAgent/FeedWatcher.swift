import Foundation
import Logging
import PodwallCore
import PodwallKernel

/// Loads the configured feeds at start and again whenever a file changes
/// (polled: simple, and it works on every filesystem, ConfigMap symlink
/// swaps included) or, for URLs, on their own interval with conditional
/// requests. A feed that fails to download or validate is logged and
/// skipped; its previous version stays enforced.
struct FeedWatcher {
    let configuration: AgentConfiguration
    let blocklist: Blocklist
    let logger: Logger
    var metrics: AgentMetrics? = nil
    let downloader = FeedDownloader()

    func run() async throws {
        var seen: [String: Date] = [:]
        var nextDownload: [String: Date] = [:]
        while !Task.isCancelled {
            for source in configuration.feeds {
                if source.isURL {
                    guard Date() >= nextDownload[source.path, default: .distantPast] else { continue }
                    nextDownload[source.path] = Date().addingTimeInterval(source.intervalSeconds ?? configuration.feedURLPollSeconds)
                } else {
                    let modified = Self.modificationDate(source.path)
                    guard modified != seen[source.path] else { continue }
                    seen[source.path] = modified
                }
                await load(source)
            }
            try await Task.sleep(for: .seconds(min(configuration.feedPollSeconds, configuration.feedURLPollSeconds)))
        }
    }

    private func load(_ source: FeedSource) async {
        do {
            let mode = source.lenient.map { $0 ? FeedMode.lenient : .strict } ?? configuration.feedMode
            let reports = try await FeedLoader.load(
                source, into: blocklist, policy: configuration.feedPolicy,
                mode: mode, downloader: downloader)
            if reports.isEmpty { logger.debug("feed \(source.name) not modified") }
            for report in reports { logger.info("\(report)") }
            if !reports.isEmpty { metrics?.feedUpdate(feed: source.name, succeeded: true) }
        } catch {
            metrics?.feedUpdate(feed: source.name, succeeded: false)
            logger.error("\(error); the last version of feed \(source.name) that loaded stays enforced")
        }
    }

    /// The newest modification time of the path (for a directory, of any file in it).
    static func modificationDate(_ path: String) -> Date? {
        let manager = FileManager.default
        let own = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        let children = (try? manager.contentsOfDirectory(atPath: path)) ?? []
        return children.compactMap { (try? manager.attributesOfItem(atPath: path + "/" + $0))?[.modificationDate] as? Date }
            .reduce(own) { newest, date in max(newest ?? date, date) }
    }
}
