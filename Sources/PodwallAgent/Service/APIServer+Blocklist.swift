import Foundation
import Hummingbird
import PodwallCore
import PodwallKernel

/// `/v1/blocklist`: list the entries a page at a time, add and remove dynamic ones.
extension APIServer {
    static func blocklist(_ request: Request, _ state: APIState) throws -> BlocklistPage {
        let query = request.uri.queryParameters
        let limit = try limit(query.get("limit"), default: 1000, max: 100_000)
        let cursor = try query.get("cursor").map { try BlocklistCursor($0) }
        return try state.blocklistListing.page(after: cursor, limit: limit, of: state.datapath)
    }

    /// At most a year: a TTL turned into nanoseconds must not overflow (the API fuzzer found that crash).
    static let maxTTLSeconds: UInt64 = 365 * 86400

    /// No TTL (never expires), or 1 second to a year.
    static func validTTL(_ seconds: UInt64?) -> Bool {
        seconds.map { $0 > 0 && $0 <= maxTTLSeconds } ?? true
    }

    struct BlockRequest: StrictJSONBody, Encodable {
        let prefix: String
        let ttl_seconds: UInt64?
        enum CodingKeys: String, CodingKey, CaseIterable { case prefix, ttl_seconds }
        static let example = #"{"prefix": "203.0.113.0/24", "ttl_seconds": 3600}"#
    }

    static func addBlock(_ request: Request, _ context: BasicRequestContext, _ state: APIState) async throws -> EditedResponse<BlockAdded> {
        let body = try await BlockRequest.decode(request, context)
        guard let prefix = IPPrefix(body.prefix) else {
            throw HTTPError(.badRequest, message: "prefix: '\(body.prefix)' is not an address or CIDR")
        }
        if let refusal = state.feedPolicy.refusal(of: prefix, token: body.prefix) {
            throw HTTPError(.badRequest, message: "prefix: \(refusal)")
        }
        guard validTTL(body.ttl_seconds) else { throw HTTPError(.badRequest, message: "ttl_seconds: 1 to \(maxTTLSeconds)") }
        let expires = body.ttl_seconds.map { MonotonicClock.now() + $0 * 1_000_000_000 } ?? 0
        try state.datapath.blocklist.addDynamic(prefix, expiresNs: expires)
        return EditedResponse(status: .created, response: BlockAdded(prefix: prefix.description))
    }

    static func removeBlock(_ text: String, _ state: APIState) throws -> HTTPResponse.Status {
        let decoded = text.removingPercentEncoding ?? text
        guard let prefix = IPPrefix(decoded) else { throw HTTPError(.badRequest, message: "'\(decoded)' is not an address or CIDR") }
        guard try state.datapath.blocklist.removeDynamic(prefix) != nil else {
            throw HTTPError(.notFound, message: "\(prefix) is not listed by hand or by detection")
        }
        return .noContent
    }
}
