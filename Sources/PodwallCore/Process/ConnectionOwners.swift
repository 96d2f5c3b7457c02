/// Which process of a pod connected to a destination, from the connect
/// hook's events: what names the process in a network alert (a scan by
/// `nmap -sT`, an exfiltration by `curl`). Bounded: entries expire after
/// `ttlNs`, and past `maxEntries` the oldest eighth goes.
public struct ConnectionOwners: Sendable {
    public struct Key: Hashable, Sendable {
        public var ifindex: UInt32
        public var proto: IPProtocol
        public var remote: IPAddress
        public var remotePort: UInt16
    }

    public var ttlNs: UInt64 = 600_000_000_000
    public var maxEntries = 16_384
    private var owners: [Key: ProcessConnection] = [:]

    public init() {}

    public var count: Int { owners.count }

    /// `ifindex`: the pod's host-side interface, where its flows are keyed.
    public mutating func record(_ connection: ProcessConnection, ifindex: UInt32) {
        if owners.count >= maxEntries { forget(before: connection.timestampNs) }
        owners[Key(ifindex: ifindex, proto: connection.proto, remote: connection.remote, remotePort: connection.remotePort)] = connection
    }

    /// The process that last connected the flow's pod to its remote end, if recent.
    public func owner(of flow: FlowKey, at now: UInt64) -> ProcessConnection? {
        let key = Key(ifindex: flow.ifindex, proto: flow.proto, remote: flow.remote, remotePort: flow.remotePort)
        guard let owner = owners[key], now < owner.timestampNs &+ ttlNs else { return nil }
        return owner
    }

    private mutating func forget(before now: UInt64) {
        owners = owners.filter { now < $0.value.timestampNs &+ ttlNs }
        guard owners.count >= maxEntries else { return }
        let oldest = owners.values.map(\.timestampNs).sorted()[maxEntries / 8]
        owners = owners.filter { $0.value.timestampNs > oldest }
    }
}
