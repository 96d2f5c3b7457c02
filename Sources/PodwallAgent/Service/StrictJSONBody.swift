import Foundation
import Hummingbird

/// A request body whose keys must all be known. Decodable alone skips keys
/// it does not know, so a typo such as "ttl" for "ttl_seconds" would add a
/// block that never expires: the API refuses such a body instead, naming
/// the key, before anything changes.
protocol StrictJSONBody: Decodable {
    associatedtype CodingKeys: CodingKey, CaseIterable
    /// A valid body, shown when the body cannot be read at all.
    static var example: String { get }
}

extension StrictJSONBody {
    /// The decoded body; a 400 (`HTTPError`, answered as `{"error": ...}`)
    /// for a body that is not this object or has a key it does not know.
    static func decode(_ request: Request, _ context: BasicRequestContext) async throws -> Self {
        let data = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        guard let keys = try? JSONDecoder().decode(ObjectKeys.self, from: data) else {
            throw HTTPError(.badRequest, message: "body: \(example)")
        }
        let unknown = keys.names.filter { CodingKeys(stringValue: $0) == nil }.sorted()
        if !unknown.isEmpty {
            let known = CodingKeys.allCases.map(\.stringValue).joined(separator: ", ")
            let named = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw HTTPError(.badRequest, message: "unknown key\(unknown.count == 1 ? "" : "s") \(named) (known: \(known))")
        }
        guard let body = try? JSONDecoder().decode(Self.self, from: data) else {
            throw HTTPError(.badRequest, message: "body: \(example)")
        }
        return body
    }
}

/// The keys of a JSON object, whatever they are (a decoding error for anything but an object).
private struct ObjectKeys: Decodable {
    let names: [String]

    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        names = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
    }
}
