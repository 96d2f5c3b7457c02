/// Which packets a capture takes: every field left nil matches anything.
/// The kernel applies it on every pod veth podwall is attached to.
public struct CaptureFilter: Hashable, Sendable {
    /// The pod's host-side interface; nil: every podwall interface.
    public var ifindex: UInt32?
    public var interfaceName: String?
    public var pod: IPPrefix?
    public var remote: IPPrefix?
    public var podPort: UInt16?
    public var remotePort: UInt16?
    public var proto: IPProtocol?

    public init(
        ifindex: UInt32? = nil, interfaceName: String? = nil, pod: IPPrefix? = nil, remote: IPPrefix? = nil,
        podPort: UInt16? = nil, remotePort: UInt16? = nil, proto: IPProtocol? = nil
    ) {
        self.ifindex = ifindex
        self.interfaceName = interfaceName
        self.pod = pod
        self.remote = remote
        self.podPort = podPort
        self.remotePort = remotePort
        self.proto = proto
    }

    /// Exactly one flow, both directions.
    public init(flow: FlowKey, interfaceName: String? = nil) {
        self.init(
            ifindex: flow.ifindex, interfaceName: interfaceName, pod: IPPrefix(host: flow.pod),
            remote: IPPrefix(host: flow.remote), podPort: flow.podPort == 0 ? nil : flow.podPort,
            remotePort: flow.remotePort == 0 ? nil : flow.remotePort, proto: flow.proto)
    }

    /// Does a packet with these fields match? The kernel's rule, in Swift
    /// (ports are 0 when the packet has none, and then only match "any").
    public func matches(
        ifindex: UInt32, proto: IPProtocol, pod: IPAddress, podPort: UInt16,
        remote: IPAddress, remotePort: UInt16
    ) -> Bool {
        (self.ifindex.map { $0 == ifindex } ?? true)
            && (self.proto.map { $0 == proto } ?? true)
            && (self.podPort.map { $0 == podPort } ?? true)
            && (self.remotePort.map { $0 == remotePort } ?? true)
            && (self.pod?.contains(pod) ?? true)
            && (self.remote?.contains(remote) ?? true)
    }

    /// Like a tcpdump expression, for listings: "veth1 tcp pod 10.0.0.5:4000 remote 1.2.3.4:80".
    public var summary: String {
        var parts: [String] = []
        parts.append(interfaceName ?? ifindex.map { "if\($0)" } ?? "any interface")
        if let proto { parts.append(proto.description) }
        if pod != nil || podPort != nil { parts.append("pod " + Self.endpoint(pod, podPort)) }
        if remote != nil || remotePort != nil { parts.append("remote " + Self.endpoint(remote, remotePort)) }
        return parts.joined(separator: " ")
    }

    private static func endpoint(_ prefix: IPPrefix?, _ port: UInt16?) -> String {
        let host = prefix.map { $0.isSingleAddress ? $0.address.description : $0.description } ?? "any"
        return port.map { "\(host):\($0)" } ?? host
    }
}

/// A capture to run: what it takes, how much, for how long.
public struct CaptureRequest: Sendable, Equatable {
    public var id: String
    /// The alert that started it, if any.
    public var alertID: String?
    public var filter: CaptureFilter
    public var snaplen: UInt32
    /// Packet budget enforced in the kernel; nil: unlimited.
    public var maxPackets: UInt64?
    /// Expiry enforced in the kernel; nil: until stopped.
    public var durationSeconds: Double?

    public static let defaultSnaplen: UInt32 = 256

    public init(
        id: String, alertID: String? = nil, filter: CaptureFilter, snaplen: UInt32 = defaultSnaplen,
        maxPackets: UInt64? = nil, durationSeconds: Double? = nil
    ) {
        self.id = id
        self.alertID = alertID
        self.filter = filter
        self.snaplen = snaplen
        self.maxPackets = maxPackets
        self.durationSeconds = durationSeconds
    }
}
