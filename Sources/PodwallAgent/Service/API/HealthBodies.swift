/// `GET /healthz`: alive, on which pins, and whether writes are taken (the
/// CLI checks both before it writes through the agent's socket).
struct HealthStatus: APIResponseBody, Decodable {
    var status = "ok"
    @Nullable var pinRoot: String?
    let writes: Bool
}

/// `GET /readyz`: "ready" with the interfaces attached (200), or "starting" (503).
struct Readiness: APIResponseBody {
    let status: String
    let interfaces: Int?

    static func of(ready: Bool, interfaces: Int) -> Readiness {
        ready ? Readiness(status: "ready", interfaces: interfaces) : Readiness(status: "starting", interfaces: nil)
    }
}
