import Hummingbird

/// The bearer token in front of the routes that change state or hand out
/// packet payloads, once for the group rather than in each handler. The
/// local socket's router goes without: there the socket's permissions
/// were the check.
struct BearerAuth<Context: RequestContext>: RouterMiddleware {
    /// nil refuses every request: no token is configured.
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // RFC 6750: a 401 names the scheme it wants.
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer"]
        guard let token else {
            throw HTTPError(.unauthorized, headers: challenge, message: "writes are disabled: no API token configured (api.token_file)")
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw HTTPError(.unauthorized, headers: challenge, message: "missing or wrong bearer token")
        }
        return try await next(request, context)
    }

    /// Looks at every byte whatever differs, so the time taken does not
    /// tell an attacker how much of a guess was right (only its length).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
