import Foundation
import PodwallCore
import Yams

/// The feeds file (`--feeds-config`): which feeds to load, from where, how
/// often. Errors name the entry and the key.
public struct FeedsConfiguration: Sendable {
    public var feeds: [FeedSource]

    struct FileFeed: Decodable {
        var name: String?
        var url: String?
        var path: String?
        var format: String?
        var interval: String?
        var enabled: Bool?
        var lenient: Bool?
    }

    struct File: Decodable {
        var feeds: [FileFeed]?
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The enabled feeds of `path`.
    public static func load(_ path: String) throws -> FeedsConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Invalid(description: "\(path): cannot read the feeds file")
        }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw Invalid(description: "\(path): not a feeds file: \(error)")
        }
        var feeds: [FeedSource] = []
        var names = Set<String>()
        for (index, entry) in (file.feeds ?? []).enumerated() where entry.enabled ?? true {
            let at = "\(path): feeds[\(index)]"
            guard (entry.url == nil) != (entry.path == nil) else { throw Invalid(description: "\(at): give exactly one of url and path") }
            let location = entry.url ?? entry.path!
            if let url = entry.url, !FeedDownloader.isURL(url) { throw Invalid(description: "\(at).url: '\(url)' is not an http(s) URL") }
            let name = entry.name ?? FeedSource.defaultName(for: location)
            guard names.insert(name).inserted else { throw Invalid(description: "\(at).name: '\(name)' is used twice") }
            var format: FeedFormat?
            if let text = entry.format {
                guard let parsed = FeedFormat(name: text) else { throw Invalid(description: "\(at).format: unknown format '\(text)'") }
                format = parsed
            }
            var interval: Double?
            if let text = entry.interval {
                guard let seconds = GoDuration.seconds(text), seconds >= 1 else {
                    throw Invalid(description: "\(at).interval: '\(text)' is not a duration of at least 1s, such as 30m or 12h")
                }
                interval = seconds
            }
            var source = FeedSource(name: name, path: location, format: format)
            source.intervalSeconds = interval
            source.lenient = entry.lenient
            feeds.append(source)
        }
        return FeedsConfiguration(feeds: feeds)
    }
}
