import Foundation
import PodwallCore
import PodwallKernel

/// A blocklist feed on disk: one file, or a directory of files (each file
/// its own feed, named after it).
public struct FeedSource: Sendable {
    public var name: String
    public var path: String
    public var format: FeedFormat?
    /// For a URL: how often to download it (default: the agent's --feed-interval).
    public var intervalSeconds: Double?
    /// Skip bad lines (default: the agent's --lenient).
    public var lenient: Bool?

    public init(name: String, path: String, format: FeedFormat? = nil) {
        self.name = name
        self.path = path
        self.format = format
    }

    /// The default feed name: the file name without its extension (for a
    /// URL, its last path component).
    public static func defaultName(for path: String) -> String {
        let url = FeedDownloader.isURL(path) ? URL(string: path) : URL(fileURLWithPath: path)
        let file = url?.deletingPathExtension().lastPathComponent ?? ""
        return file.isEmpty || file == "/" ? "feed" : file
    }

    public var isURL: Bool { FeedDownloader.isURL(path) }
}

public struct FeedLoadReport: Sendable, CustomStringConvertible {
    public var name: String
    public var entries: Int
    public var skippedLines: Int
    public var change: Blocklist.Change
    public var parseSeconds: Double
    public var applySeconds: Double

    public var description: String {
        var text = "feed \(name): \(entries) entries (\(change)) parsed in \(Self.ms(parseSeconds)), applied in \(Self.ms(applySeconds))"
        if skippedLines > 0 { text += "; \(skippedLines) bad lines skipped (--lenient)" }
        return text
    }

    public static func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }
}

public enum FeedLoadError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case rejected(FeedRejection)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read feed \(path): \(reason)"
        case .rejected(let rejection): "\(rejection)\nthe previous version of the feed stays enforced"
        }
    }
}

/// Reads, validates and applies feeds. A feed that fails validation is never
/// applied, not even in part: the kernel keeps its previous version.
public enum FeedLoader {
    /// One feed as read from its source: the feed it replaces, the name its
    /// lines are reported under (file:line), and its bytes.
    public struct Document: Sendable {
        public var source: FeedSource
        public var fileName: String
        public var bytes: [UInt8]
    }

    /// Loads a file, a directory of files, or a URL (nothing when the server
    /// says the feed has not changed since the last download).
    public static func load(
        _ source: FeedSource, into blocklist: Blocklist, policy: FeedPolicy = FeedPolicy(),
        mode: FeedMode = .strict, downloader: FeedDownloader = FeedDownloader()
    ) async throws -> [FeedLoadReport] {
        try await documents(of: source, downloader: downloader).map {
            try apply($0.bytes, named: $0.fileName, as: $0.source, into: blocklist, policy: policy, mode: mode)
        }
    }

    /// Reads a file, each file of a directory (each its own feed, named after
    /// it), or a URL (nothing when the server says it has not changed).
    public static func documents(of source: FeedSource, downloader: FeedDownloader = FeedDownloader()) async throws -> [Document] {
        guard !source.isURL else {
            switch try await downloader.fetch(source.path) {
            case .notModified:
                return []
            case .changed(let data):
                let name = URL(string: source.path)?.lastPathComponent ?? source.path
                return [Document(source: source, fileName: name, bytes: [UInt8](data))]
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory) else {
            throw FeedLoadError.unreadable(path: source.path, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else { return [try read(source)] }
        let files = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { !$0.hasPrefix(".") }.sorted()
        return try files.map { file in
            let path = source.path + "/" + file
            return try read(FeedSource(name: FeedSource.defaultName(for: path), path: path, format: source.format))
        }
    }

    static func read(_ source: FeedSource) throws -> Document {
        guard let data = FileManager.default.contents(atPath: source.path) else {
            throw FeedLoadError.unreadable(path: source.path, reason: String(cString: strerror(errno)))
        }
        return Document(source: source, fileName: URL(fileURLWithPath: source.path).lastPathComponent, bytes: [UInt8](data))
    }

    /// Parses and validates a feed document, then applies it whole, or not at all.
    public static func apply(
        _ bytes: [UInt8], named name: String, as source: FeedSource, into blocklist: Blocklist,
        policy: FeedPolicy, mode: FeedMode
    ) throws -> FeedLoadReport {
        let started = Date()
        let content: FeedContent
        do {
            content = try FeedParser.parse(bytes, source: name, format: source.format, policy: policy, mode: mode)
        } catch {
            throw FeedLoadError.rejected(error)
        }
        let parsed = Date()
        let (prefixes, skipped): (SortedPrefixes, Int)
        switch content {
        case .snapshot(let feed):
            (prefixes, skipped) = (feed.sorted, feed.skippedCount)
        case .decisions(let stream):
            // A CrowdSec stream is a change: apply it to what the feed lists now.
            let current = blocklist.prefixes(ofFeed: source.name)
            (prefixes, skipped) = (
                current.union(stream.added.sorted).subtracting(stream.deleted.sorted),
                stream.added.skippedCount + stream.deleted.skippedCount
            )
        }
        let change = try blocklist.replaceFeed(source.name, with: prefixes)
        return FeedLoadReport(
            name: source.name, entries: prefixes.count, skippedLines: skipped, change: change,
            parseSeconds: parsed.timeIntervalSince(started), applySeconds: Date().timeIntervalSince(parsed))
    }
}

extension FeedLoader {
    /// A local file, synchronously (for benchmarks and tools without a runtime).
    public static func loadFileNow(
        _ source: FeedSource, into blocklist: Blocklist, policy: FeedPolicy = FeedPolicy(),
        mode: FeedMode = .strict
    ) throws -> [FeedLoadReport] {
        let document = try read(source)
        return [try apply(document.bytes, named: document.fileName, as: source, into: blocklist, policy: policy, mode: mode)]
    }
}
