import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Fetches feeds over HTTP(S) with conditional requests (ETag,
/// If-Modified-Since), so an unchanged feed costs one small response, and
/// keeps what it needs to ask again. A failed download changes nothing: the
/// kernel keeps the last version that loaded.
public actor FeedDownloader {
    public enum Outcome: Sendable {
        case changed(Data)
        case notModified
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private var validators: [String: (etag: String?, lastModified: String?)] = [:]
    /// Feeds larger than this are refused (a feed of a million lines is ~20 MB).
    private let maxBytes: Int

    public init(maxBytes: Int = 256 << 20) {
        self.maxBytes = maxBytes
    }

    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("http://") || text.hasPrefix("https://")
    }

    /// `timeout` covers connecting (the client retries refused connections
    /// until then) and the response head.
    public func fetch(_ url: String, timeout: TimeAmount = .seconds(10)) async throws -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "podwall")
        if let etag = validators[url]?.etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let modified = validators[url]?.lastModified { request.headers.add(name: "If-Modified-Since", value: modified) }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch {
            throw Failure(description: "cannot download \(url): \(error)")
        }
        // The body is always read to its end: an unread body keeps the
        // connection from going back to the pool, and after a few polls
        // every request would wait for one.
        switch response.status {
        case .notModified:
            _ = try? await response.body.collect(upTo: 64 << 10)
            return .notModified
        case .ok:
            let body = try await response.body.collect(upTo: maxBytes)
            validators[url] = (response.headers.first(name: "ETag"), response.headers.first(name: "Last-Modified"))
            return .changed(Data(body.readableBytesView))
        default:
            _ = try? await response.body.collect(upTo: 1 << 20)
            throw Failure(description: "cannot download \(url): HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
    }
}
