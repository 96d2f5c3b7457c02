import PodwallCore

/// `GET /v1/flows`: the largest flows of the agent's latest snapshot of the kernel's table.
struct FlowList: APIResponseBody, Decodable {
    let flows: [FlowRow]
    /// How old the snapshot is (one is taken every sample period).
    let snapshotAgeMs: UInt64

    // Keys spelled out, for FlowRow's reason.
    enum CodingKeys: String, CodingKey {
        case flows
        case snapshotAgeMs = "snapshot_age_ms"
    }
}

/// One flow, as seen from its pod (openapi: Flow). Its keys are spelled
/// out, as its process's are: the CLI reads it back with a plain decoder
/// (convertFromSnakeCase finds no spelled-out snake_case key).
struct FlowRow: Codable, Sendable {
    let interface: String
    let ifindex: UInt32
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
    /// The process whose connect() opened it, when the agent knows it.
    let process: AlertProcess?

    enum CodingKeys: String, CodingKey {
        case interface, ifindex, proto, pod, remote, process
        case podName = "pod_name"
        case podPort = "pod_port"
        case remotePort = "remote_port"
        case bytesFromPod = "bytes_from_pod"
        case bytesToPod = "bytes_to_pod"
        case packetsFromPod = "packets_from_pod"
        case packetsToPod = "packets_to_pod"
    }

    init(_ flow: FlowRecord, interface: String, podName: String?, process: AlertProcess? = nil) {
        self.interface = interface
        ifindex = flow.key.ifindex
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
        self.process = process
    }

    /// The flow's key in the kernel's table, read back.
    var key: FlowKey? {
        guard let proto = IPProtocol(name: proto), let pod = IPAddress(pod), let remote = IPAddress(remote),
            let podPort = UInt16(exactly: podPort), let remotePort = UInt16(exactly: remotePort)
        else { return nil }
        return FlowKey(ifindex: ifindex, proto: proto, pod: pod, podPort: podPort, remote: remote, remotePort: remotePort)
    }
}
