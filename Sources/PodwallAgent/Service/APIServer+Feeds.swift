import Foundation
import Hummingbird
import NIOCore
import PodwallCore

/// `PUT /v1/feeds/{name}`: `podwall blocklist load` while an agent runs. The
/// agent parses and applies the document through the same store its own
/// feeds go through, under its own limits, so its mirror of the maps stays
/// true; a document with a bad line is refused whole with `file:line: reason`.
extension APIServer {
    /// A 1M-entry netset is about 15 MiB.
    static let maxFeedBytes = 256 << 20

    static func loadFeed(_ name: String, _ request: Request, _ state: APIState) async throws -> Response {
        let query = request.uri.queryParameters
        let decoded = name.removingPercentEncoding ?? name
        guard !decoded.isEmpty, decoded.utf8.count < 48, !decoded.utf8.contains(0) else {
            return error(.badRequest, "name: 1 to 47 bytes")
        }
        var format: FeedFormat?
        if let text = query.get("format") {
            guard let parsed = FeedFormat(name: text) else { return error(.badRequest, "format: unknown format '\(text)'") }
            format = parsed
        }
        guard let lenient = flag(query.get("lenient")) else { return error(.badRequest, "lenient: true or false") }
        let file = query.get("file").map { $0.removingPercentEncoding ?? $0 } ?? decoded
        let body = try await request.body.collect(upTo: maxFeedBytes)
        let source = FeedSource(name: decoded, path: file, format: format)
        do {
            let report = try FeedLoader.apply(
                Array(buffer: body), named: file, as: source, into: state.datapath.blocklist,
                policy: state.feedPolicy, mode: lenient ? .lenient : .strict)
            return json(
                .ok,
                [
                    "name": report.name, "entries": report.entries, "skipped_lines": report.skippedLines,
                    "added": report.change.added, "removed": report.change.removed, "updated": report.change.updated
                ])
        } catch let failure as FeedLoadError {
            return error(.badRequest, failure.description)
        }
    }

    private static func flag(_ text: String?) -> Bool? {
        switch text {
        case nil, "false": false
        case "true": true
        default: nil
        }
    }
}
