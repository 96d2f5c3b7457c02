/// `GET /v1/pods`: the pod interfaces podwall is attached to.
struct PodList: APIResponseBody, Decodable {
    let pods: [PodRow]
}

/// An attached interface and the pod behind it, null while unknown.
struct PodRow: Codable, Sendable {
    let ifindex: UInt32
    let interface: String
    @Nullable var podName: String?
}
