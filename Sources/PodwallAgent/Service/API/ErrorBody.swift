/// Every refusal of the API: `{"error": "..."}` (docs/api/openapi.yaml, Error).
struct ErrorBody: APIResponseBody, Decodable {
    let error: String
}
