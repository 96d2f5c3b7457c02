import Hummingbird
import NIOCore

/// `GET /v1/alerts`: the alert log's lines as they were written (each
/// already an `Alert` object), put in an array without decoding them again.
struct AlertList: ResponseGenerator {
    let lines: [String]

    var json: String { "{\"alerts\":[" + lines.joined(separator: ",") + "]}" }

    func response(from request: Request, context: some RequestContext) -> Response {
        let body = ByteBuffer(string: json)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes)],
            body: .init(byteBuffer: body))
    }
}
