import Hummingbird
import PodwallKernel

/// Answers every error as `ErrorBody` with its status: the handlers'
/// `HTTPError`s, what the framework answers by itself (no such route, a body
/// too large) and the kernel refusing a change (500, saying what it refused).
struct JSONErrors<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let failure as HTTPError {
            return try answer(failure.status, failure.body ?? failure.status.reasonPhrase, headers: failure.headers, request, context)
        } catch let failure as any HTTPResponseError {
            return try answer(failure.status, failure.status.reasonPhrase, request, context)
        } catch let failure as KernelError {
            return try answer(.internalServerError, failure.description, request, context)
        }
    }

    private func answer(
        _ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:], _ request: Request, _ context: Context
    ) throws -> Response {
        var response = try ErrorBody(error: message).response(from: request, context: context)
        response.status = status
        response.headers.append(contentsOf: headers)
        return response
    }
}
