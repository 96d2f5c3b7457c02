/// Settings for `ProtocolMismatchDetector`.
public struct ProtocolMismatchConfig: Sendable, Equatable {
    /// Remote TCP ports where only HTTP is expected.
    public var httpPorts: [UInt16] = [80]
    public var maxTrackedFlows = 262_144

    public init() {}
}

public struct ProtocolMismatchStats: Sendable, Equatable {
    public var judged = 0
    public var mismatches = 0
    /// Flows judged without being remembered because the table was full.
    public var untrackedFlows = 0
}

/// Non-HTTP traffic on HTTP ports (tunnels, reverse shells, C2 over :80): the first payload
/// of each direction of a TCP flow to a configured port is judged once.
public struct ProtocolMismatchDetector: Sendable {
    public let config: ProtocolMismatchConfig
    public private(set) var stats = ProtocolMismatchStats()
    private let ports: PortBitmap

    /// Per flow: which directions were judged, and whether the client spoke HTTP/2.
    private var judged: [FlowKey: UInt8] = [:]
    private static let requestJudged: UInt8 = 1
    private static let responseJudged: UInt8 = 2
    private static let spokeHTTP2: UInt8 = 4

    public init(config: ProtocolMismatchConfig = ProtocolMismatchConfig()) {
        self.config = config
        self.ports = PortBitmap(config.httpPorts)
    }

    public var trackedFlows: Int { judged.count }

    public mutating func observe(_ event: FlowEvent, now: UInt64) -> [Alert] {
        guard event.key.proto == IPProto.tcp, ports.contains(event.key.remotePort) else { return [] }
        switch event.kind {
        case .end:
            if !judged.isEmpty { judged.removeValue(forKey: event.key) }
            return []
        case .payload(let direction):
            return judgePayload(event, direction: direction, now: now)
        case .new, .icmpError:
            return []
        }
    }

    public func tick(now: UInt64) -> [Alert] { [] }

    private mutating func judgePayload(_ event: FlowEvent, direction: FlowEvent.Direction, now: UInt64) -> [Alert] {
        let payload = event.payload
        guard !payload.isEmpty else { return [] }
        let bit = direction == .podToRemote ? Self.requestJudged : Self.responseJudged
        let state = judged[event.key] ?? 0
        guard state & bit == 0 else { return [] }

        let verdict = direction == .podToRemote
            ? PayloadClassifier.classifyRequest(payload)
            : PayloadClassifier.classifyResponse(payload, afterHTTP2Preface: state & Self.spokeHTTP2 != 0)
        stats.judged += 1
        let newState = state | bit | (verdict == .http2Preface ? Self.spokeHTTP2 : 0)
        if state != 0 || judged.count < config.maxTrackedFlows {
            judged[event.key] = newState
        } else {
            stats.untrackedFlows += 1
        }
        guard !verdict.isHTTP else { return [] }
        stats.mismatches += 1
        return [makeAlert(event, direction: direction, verdict: verdict, now: now)]
    }

    private func makeAlert(_ event: FlowEvent, direction: FlowEvent.Direction, verdict: PayloadProtocol, now: UInt64) -> Alert {
        let looksLike = verdict == .nonHTTPResponse ? PayloadClassifier.identify(event.payload) : verdict
        let evidence = ProtocolMismatchEvidence(
            protocolName: verdict.rawValue,
            looksLike: verdict == .nonHTTPResponse ? looksLike.rawValue : nil,
            direction: direction,
            remotePort: event.key.remotePort,
            byteCount: event.payload.count,
            hexPreview: PayloadClassifier.hexPreview(event.payload),
            textPreview: PayloadClassifier.textPreview(event.payload))
        let interactive: Set<PayloadProtocol> = [.ssh, .shellOrText, .socks4, .socks5]
        return Alert(
            kind: .protocolMismatch,
            severity: interactive.contains(looksLike) ? .high : .medium,
            source: AlertSource(event.key.source),
            flows: [event.key],
            evidence: .protocolMismatch(evidence),
            decidingNs: event.timestampNs,
            now: now)
    }

    public var memory: MemoryEstimate {
        MemoryEstimate(flowBytes: tableBytes(judged), trackedFlows: judged.count)
    }
}

/// Membership of a port in a fixed set with one load and a mask (8 KiB for all 65,536 ports).
struct PortBitmap: Sendable {
    private var words = [UInt64](repeating: 0, count: 1024)

    init(_ ports: [UInt16]) {
        for port in ports { words[Int(port >> 6)] |= 1 << UInt64(port & 63) }
    }

    func contains(_ port: UInt16) -> Bool {
        words[Int(port >> 6)] & (1 << UInt64(port & 63)) != 0
    }
}
