import PodwallCore
import PodwallKernel

/// `GET /v1/blocklist`: one page of the entries in prefix order, the
/// number of entries in all, and where the next page starts (null on the last).
struct BlocklistPage: APIResponseBody, Decodable {
    let entries: [BlocklistRow]
    let count: Int
    @Nullable var nextCursor: String?
}

/// One entry (openapi: BlocklistEntry), its expiry as seconds from now.
struct BlocklistRow: Codable, Sendable {
    let prefix: String
    let feeds: [String]
    let dynamic: Bool
    @Nullable var expiresInSeconds: Int?
    let hits: UInt64

    init(_ prefix: IPPrefix, _ entry: Blocklist.Entry, feeds: [String], nowNs: UInt64) {
        self.prefix = prefix.description
        self.feeds = feeds
        dynamic = entry.isDynamic
        expiresInSeconds = entry.expiresNs == 0 ? nil : Int((entry.expiresNs &- nowNs) / 1_000_000_000)
        hits = entry.hits
    }
}

/// `POST /v1/blocklist` (201): the prefix listed, as the agent wrote it.
struct BlockAdded: APIResponseBody {
    let prefix: String
}
