import PodwallCore

/// Something the caller should do about an alert. The core only decides; it never acts.
public enum ResponseAction: Sendable, Hashable {
    case none
    /// Drop traffic to/from `remote` for `ttlSeconds`.
    case block(remote: IPAddress, ttlSeconds: UInt32)
    /// Cut the pod off the network for `ttlSeconds`.
    case quarantine(pod: IPAddress, ifindex: UInt32, ttlSeconds: UInt32)
    /// Start a packet capture tagged `id` (the alert id).
    case capture(id: String)
    /// Kill the process `pid`: done by the kernel at its exec when
    /// `atExec`, else by the agent when the alert is decided.
    case kill(pid: UInt32, atExec: Bool)

    /// Changes what the kernel lets through.
    public var enforces: Bool {
        switch self {
        case .block, .quarantine, .kill: true
        case .none, .capture: false
        }
    }
}

// Encoded as {"type": "block", "remote": "...", "ttl_seconds": 3600} and so on.
extension ResponseAction: Codable {
    private enum CodingKeys: String, CodingKey {
        case type, remote, pod, ifindex, id, pid
        case atExec = "at_exec"
        case ttlSeconds = "ttl_seconds"
    }

    private enum Tag: String, Codable {
        case none, block, quarantine, capture, kill
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Tag.self, forKey: .type) {
        case .none:
            self = .none
        case .block:
            self = .block(
                remote: try container.decode(IPAddress.self, forKey: .remote),
                ttlSeconds: try container.decode(UInt32.self, forKey: .ttlSeconds))
        case .quarantine:
            self = .quarantine(
                pod: try container.decode(IPAddress.self, forKey: .pod),
                ifindex: try container.decode(UInt32.self, forKey: .ifindex),
                ttlSeconds: try container.decode(UInt32.self, forKey: .ttlSeconds))
        case .capture:
            self = .capture(id: try container.decode(String.self, forKey: .id))
        case .kill:
            self = .kill(
                pid: try container.decode(UInt32.self, forKey: .pid), atExec: try container.decode(Bool.self, forKey: .atExec))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .none:
            try container.encode(Tag.none, forKey: .type)
        case .block(let remote, let ttl):
            try container.encode(Tag.block, forKey: .type)
            try container.encode(remote, forKey: .remote)
            try container.encode(ttl, forKey: .ttlSeconds)
        case .quarantine(let pod, let ifindex, let ttl):
            try container.encode(Tag.quarantine, forKey: .type)
            try container.encode(pod, forKey: .pod)
            try container.encode(ifindex, forKey: .ifindex)
            try container.encode(ttl, forKey: .ttlSeconds)
        case .capture(let id):
            try container.encode(Tag.capture, forKey: .type)
            try container.encode(id, forKey: .id)
        case .kill(let pid, let atExec):
            try container.encode(Tag.kill, forKey: .type)
            try container.encode(pid, forKey: .pid)
            try container.encode(atExec, forKey: .atExec)
        }
    }
}
