import Foundation
import Hummingbird
import PodwallCore

/// Where a page of `GET /v1/blocklist` ends: the last prefix it holds.
/// The next page starts after that prefix in order, not at an index, so
/// entries added or removed between two pages neither repeat nor hide the
/// ones that stay. Opaque on the wire (base64url) so clients pass it back
/// as given.
struct BlocklistCursor: Equatable {
    let after: IPPrefix

    init(after: IPPrefix) {
        self.after = after
    }

    /// A cursor this API handed out; a 400 for anything else.
    init(_ text: String) throws {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let prefix = IPPrefix(String(decoding: data, as: UTF8.self)) else {
            throw HTTPError(.badRequest, message: "cursor: not a next_cursor of GET /v1/blocklist")
        }
        after = prefix
    }

    var text: String {
        Data(after.description.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
