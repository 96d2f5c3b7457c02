import Foundation
import Hummingbird

/// A JSON answer of the API. Encoded by the API's own encoder rather than
/// the request context's: capture summaries hold dates (RFC 3339 on the
/// wire, as their files have them) and sorted keys keep answers
/// byte-stable; `docs/api/openapi.yaml` names every key (APIContractTests).
protocol APIResponseBody: ResponseEncodable {}

extension APIResponseBody {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIResponseCoding.encoder.encode(self, from: request, context: context)
    }
}

/// The API's wire format: snake_case keys from the types' camelCase names.
enum APIResponseCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// For the CLI, which reads the same types back.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
