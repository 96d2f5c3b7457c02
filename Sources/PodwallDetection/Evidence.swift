import PodwallCore

/// Why an alert fired: one typed payload per alert kind, encoded as a flat JSON object
/// with a "type" member naming the kind.
public enum Evidence: Sendable, Equatable {
    case portScan(ScanEvidence)
    case exfiltration(ExfiltrationEvidence)
    case protocolMismatch(ProtocolMismatchEvidence)
    case blocklistHit(BlocklistEvidence)
    /// The same record as a blocklist hit, with reason `quarantine` and no matched prefix.
    case quarantineDrop(BlocklistEvidence)
    /// A program judged at its exec (reverse shell, network tool).
    case process(ProcessEvidence)
    case flood(FloodEvidence)
    /// A file operation, a breakout attempt, a dropped program's exec.
    case file(FileEvidence)

    public var kind: AlertKind {
        switch self {
        case .portScan: .portScan
        case .exfiltration: .exfiltration
        case .protocolMismatch: .protocolMismatch
        case .blocklistHit: .blocklistHit
        case .quarantineDrop: .quarantineDrop
        case .process(let process): process.kind
        case .flood: .flood
        case .file(let file): file.kind
        }
    }
}

extension Evidence: Codable {
    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        switch try decoder.container(keyedBy: TypeKey.self).decode(AlertKind.self, forKey: .type) {
        case .portScan: self = .portScan(try ScanEvidence(from: decoder))
        case .exfiltration: self = .exfiltration(try ExfiltrationEvidence(from: decoder))
        case .protocolMismatch: self = .protocolMismatch(try ProtocolMismatchEvidence(from: decoder))
        case .blocklistHit: self = .blocklistHit(try BlocklistEvidence(from: decoder))
        case .quarantineDrop: self = .quarantineDrop(try BlocklistEvidence(from: decoder))
        case .reverseShell, .networkTool, .unexpectedProcess: self = .process(try ProcessEvidence(from: decoder))
        case .flood: self = .flood(try FloodEvidence(from: decoder))
        case .sensitiveWrite, .sensitiveRead, .breakout, .dropExecute: self = .file(try FileEvidence(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(kind, forKey: .type)
        switch self {
        case .portScan(let evidence): try evidence.encode(to: encoder)
        case .exfiltration(let evidence): try evidence.encode(to: encoder)
        case .protocolMismatch(let evidence): try evidence.encode(to: encoder)
        case .blocklistHit(let evidence), .quarantineDrop(let evidence): try evidence.encode(to: encoder)
        case .process(let evidence): try evidence.encode(to: encoder)
        case .flood(let evidence): try evidence.encode(to: encoder)
        case .file(let evidence): try evidence.encode(to: encoder)
        }
    }
}

public struct ScanEvidence: Sendable, Equatable, Codable {
    public enum Trigger: String, Sendable, Codable {
        /// Threshold Random Walk crossed its upper threshold (failed first contacts).
        case trw
        case fanoutVertical = "fanout_vertical"
        case fanoutHorizontal = "fanout_horizontal"
        /// A pod past its event budget: the kernel's summary of its new flows
        /// (distinct remote ports or hosts from its sketches, mostly unanswered).
        case flowSummary = "flow_summary"
    }

    public enum ScanType: String, Sendable, Codable {
        case horizontal, vertical, mixed
    }

    public var trigger: Trigger
    public var scanType: ScanType
    /// "tcp", "udp" or "tcp+udp".
    public var protocolName: String
    public var probedHosts: Int
    public var probedPorts: Int
    public var failures: Int
    public var successes: Int
    /// Probes still waiting for a reply when the alert fired.
    public var unanswered: Int
    public var failureRatio: Double
    public var firstProbeNs: UInt64
    public var lastProbeNs: UInt64
    /// The TRW log-likelihood ratio when the alert fired.
    public var trwScore: Double
    /// TCP first-packet styles seen: "syn", "fin", "null", "xmas", "ack", "other".
    public var tcpProbeStyles: [String]

    enum CodingKeys: String, CodingKey {
        case trigger, failures, successes, unanswered
        case scanType = "scan_type"
        case protocolName = "protocol"
        case probedHosts = "probed_hosts"
        case probedPorts = "probed_ports"
        case failureRatio = "failure_ratio"
        case firstProbeNs = "first_probe_ns"
        case lastProbeNs = "last_probe_ns"
        case trwScore = "trw_score"
        case tcpProbeStyles = "tcp_probe_styles"
    }
}

public struct ExfiltrationEvidence: Sendable, Equatable, Codable {
    public enum Scope: String, Sendable, Codable {
        /// All of the pod's egress to non-cluster destinations.
        case pod
        /// The pod's egress to one destination.
        case podRemote = "pod_remote"
    }

    public var scope: Scope
    /// Bytes in the window that crossed: an interval of the aligned grid or of the half-shifted one.
    public var bytesInInterval: UInt64
    public var baselineMean: Double
    public var sigma: Double
    public var k: Double
    public var floorBytes: UInt64
    /// max(mean + k * max(sigma, minRelativeSigma * mean), floor): what was crossed.
    public var thresholdBytes: Double
    /// The destination (for the pod scope: the biggest destination of the interval).
    public var destination: IPAddress?
    /// Where that window starts.
    public var intervalStartNs: UInt64
    public var intervalSeconds: Double
    public var intervalsObserved: Int

    enum CodingKeys: String, CodingKey {
        case scope, sigma, k, destination
        case bytesInInterval = "bytes_in_interval"
        case baselineMean = "baseline_mean"
        case floorBytes = "floor_bytes"
        case thresholdBytes = "threshold_bytes"
        case intervalStartNs = "interval_start_ns"
        case intervalSeconds = "interval_seconds"
        case intervalsObserved = "intervals_observed"
    }
}

public struct ProtocolMismatchEvidence: Sendable, Equatable, Codable {
    /// What was seen instead of HTTP ("tls_client_hello", "ssh", "non_http_response", ...).
    public var protocolName: String
    /// For "non_http_response": what the bytes look like ("ssh", "binary", ...).
    public var looksLike: String?
    public var direction: FlowDirection
    public var remotePort: UInt16
    public var byteCount: Int
    public var hexPreview: String
    /// Printable ASCII kept, everything else shown as ".".
    public var textPreview: String

    enum CodingKeys: String, CodingKey {
        case direction
        case protocolName = "protocol"
        case looksLike = "looks_like"
        case remotePort = "remote_port"
        case byteCount = "byte_count"
        case hexPreview = "hex_preview"
        case textPreview = "text_preview"
    }
}

public struct BlocklistEvidence: Sendable, Equatable, Codable {
    public var matchedPrefix: String
    public var reason: DropEvent.Reason
    public var remote: IPAddress
    public var remotePort: UInt16
    public var proto: IPProtocol

    enum CodingKeys: String, CodingKey {
        case reason, remote, proto
        case matchedPrefix = "matched_prefix"
        case remotePort = "remote_port"
    }
}
