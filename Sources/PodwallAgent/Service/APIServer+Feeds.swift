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

    static func loadFeed(_ name: String, _ request: Request, _ state: APIState) async throws -> FeedReport {
        let query = request.uri.queryParameters
        let decoded = name.removingPercentEncoding ?? name
        guard !decoded.isEmpty, decoded.utf8.count < 48, !decoded.utf8.contains(0) else {
            throw HTTPError(.badRequest, message: "name: 1 to 47 bytes")
        }
        var format: FeedFormat?
        if let text = query.get("format") {
            guard let parsed = FeedFormat(name: text) else { throw HTTPError(.badRequest, message: "format: unknown format '\(text)'") }
            format = parsed
        }
        guard let lenient = flag(query.get("lenient")) else { throw HTTPError(.badRequest, message: "lenient: true or false") }
        let file = query.get("file").map { $0.removingPercentEncoding ?? $0 } ?? decoded
        let body = try await request.body.collect(upTo: maxFeedBytes)
        let source = FeedSource(name: decoded, path: file, format: format)
        do {
            let report = try FeedLoader.apply(
                Array(buffer: body), named: file, as: source, into: state.datapath.blocklist,
                policy: state.feedPolicy, mode: lenient ? .lenient : .strict)
            return FeedReport(report)
        } catch let failure as FeedLoadError {
            throw HTTPError(.badRequest, message: failure.description)
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
