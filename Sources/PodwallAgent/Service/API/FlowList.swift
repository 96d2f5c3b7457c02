import PodwallCore

/// `GET /v1/flows`: the largest flows of the agent's latest snapshot of the kernel's table.
struct FlowList: APIResponseBody {
    let flows: [FlowRow]
    /// How old the snapshot is (one is taken every sample period).
    let snapshotAgeMs: UInt64
}

/// One flow, as seen from its pod (openapi: Flow).
struct FlowRow: Codable, Sendable {
    let interface: String
    @Nullable var podName: String?
    let proto: String
    let pod: String
    let podPort: Int
    let remote: String
    let remotePort: Int
    let bytesFromPod: UInt64
    let bytesToPod: UInt64
    let packetsFromPod: UInt64
    let packetsToPod: UInt64

    init(_ flow: FlowRecord, interface: String, podName: String?) {
        self.interface = interface
        self.podName = podName
        proto = flow.key.proto.description
        pod = flow.key.pod.description
        podPort = Int(flow.key.podPort)
        remote = flow.key.remote.description
        remotePort = Int(flow.key.remotePort)
        bytesFromPod = flow.fromPod.bytes
        bytesToPod = flow.toPod.bytes
        packetsFromPod = flow.fromPod.packets
        packetsToPod = flow.toPod.packets
    }
}
