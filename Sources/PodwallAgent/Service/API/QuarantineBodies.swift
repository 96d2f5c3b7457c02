import PodwallKernel

/// `GET /v1/quarantine`: every quarantined interface.
struct QuarantineList: APIResponseBody {
    let entries: [QuarantineRow]
}

/// One quarantine (openapi: QuarantineEntry), its times as seconds from now.
struct QuarantineRow: Codable, Sendable {
    let interface: String
    let ifindex: UInt32
    let sinceSeconds: Int
    @Nullable var expiresInSeconds: Int?
    let drops: UInt64

    init(ifindex: UInt32, interface: String, _ entry: QuarantineTable.Entry, nowNs: UInt64) {
        self.interface = interface
        self.ifindex = ifindex
        sinceSeconds = Int((nowNs &- entry.sinceNs) / 1_000_000_000)
        expiresInSeconds = entry.expiresNs.map { Int(($0 &- nowNs) / 1_000_000_000) }
        drops = entry.drops
    }
}

/// `POST /v1/quarantine` (201): the interface quarantined.
struct QuarantineAdded: APIResponseBody {
    let interface: String
    let ifindex: UInt32
}
