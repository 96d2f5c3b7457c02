import Hummingbird
import PodwallCore
import PodwallKernel

/// `/v1/quarantine`: list, quarantine and release pod interfaces.
extension APIServer {
    static func quarantine(_ state: APIState) -> QuarantineList {
        let names = state.interfaceNames
        let now = MonotonicClock.now()
        return QuarantineList(
            entries: state.datapath.quarantine.entries().sorted { $0.key < $1.key }.map { ifindex, entry in
                QuarantineRow(ifindex: ifindex, interface: names[ifindex] ?? "if\(ifindex)", entry, nowNs: now)
            })
    }

    struct QuarantineRequest: StrictJSONBody, Encodable {
        let interface: String
        let ttl_seconds: UInt64?
        enum CodingKeys: String, CodingKey, CaseIterable { case interface, ttl_seconds }
        static let example = #"{"interface": "veth1a2b3c", "ttl_seconds": 600}"#
    }

    static func addQuarantine(
        _ request: Request, _ context: BasicRequestContext, _ state: APIState
    ) async throws -> EditedResponse<QuarantineAdded> {
        let body = try await QuarantineRequest.decode(request, context)
        let ifindex = interfaceIndex(body.interface)
        guard ifindex != 0 else { throw HTTPError(.badRequest, message: "interface: no interface '\(body.interface)' on this node") }
        // Bounded as for blocks: a huge TTL would overflow the expiry (and crash the agent).
        guard validTTL(body.ttl_seconds) else { throw HTTPError(.badRequest, message: "ttl_seconds: 1 to \(maxTTLSeconds)") }
        try state.datapath.quarantine.quarantine(ifindex, since: MonotonicClock.now(), for: body.ttl_seconds.map { $0 * 1_000_000_000 })
        return EditedResponse(status: .created, response: QuarantineAdded(interface: body.interface, ifindex: ifindex))
    }

    static func release(_ interface: String, _ state: APIState) throws -> HTTPResponse.Status {
        let ifindex = interfaceIndex(interface)
        guard ifindex != 0 else { throw HTTPError(.badRequest, message: "no interface '\(interface)' on this node") }
        guard try state.datapath.quarantine.release(ifindex) else { throw HTTPError(.notFound, message: "\(interface) is not quarantined") }
        state.quarantineReleased(ifindex)
        return .noContent
    }
}
