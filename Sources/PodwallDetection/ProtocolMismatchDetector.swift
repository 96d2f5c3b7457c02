import PodwallCore

/// Settings for `ProtocolMismatchDetector`.
public struct ProtocolMismatchConfig: Sendable, Equatable {
    /// Remote TCP ports where only HTTP is expected.
    public var httpPorts: [UInt16] = [80]
    public var maxTrackedFlows = 262_144
    /// How long a server's first payload waits for its client's request
    /// (events of the two directions may reach the detector in either
    /// order, and the request tells whether the server answers HTTP/2).
    /// A server that speaks first is judged after this wait.
    public var responseWaitNs: UInt64 = 250_000_000

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
    /// Servers' first payloads that arrived before their client's request.
    private var waitingResponses: [FlowKey: FlowEvent] = [:]
    private static let requestJudged: UInt8 = 1
    private static let responseJudged: UInt8 = 2
    private static let spokeHTTP2: UInt8 = 4

    public init(config: ProtocolMismatchConfig = ProtocolMismatchConfig()) {
        self.config = config
        self.ports = PortBitmap(config.httpPorts)
    }

    public var trackedFlows: Int { judged.count + waitingResponses.count }

    public mutating func observe(_ event: FlowEvent, now: UInt64) -> [Alert] {
        guard event.key.proto == .tcp, ports.contains(event.key.remotePort) else { return [] }
        switch event.kind {
        case .end:
            // The request will not come now: judge a waiting answer alone.
            var raised: [Alert] = []
            if let waiting = waitingResponses.removeValue(forKey: event.key) {
                raised = judgePayload(waiting, now: now)
            }
            if !judged.isEmpty { judged.removeValue(forKey: event.key) }
            return raised
        case .payload:
            if event.direction == .toPod, shouldWait(event) {
                waitingResponses[event.key] = event
                return []
            }
            var raised = judgePayload(event, now: now)
            if event.direction == .fromPod, let waiting = waitingResponses.removeValue(forKey: event.key) {
                raised += judgePayload(waiting, now: now)
            }
            return raised
        case .new, .reply, .volume:
            // Neither carries a payload to judge.
            return []
        }
    }

    /// Judges the answers whose request did not come within the wait.
    public mutating func tick(now: UInt64) -> [Alert] {
        guard !waitingResponses.isEmpty else { return [] }
        var raised: [Alert] = []
        for (key, waiting) in waitingResponses where now &- waiting.timestamp >= config.responseWaitNs {
            waitingResponses.removeValue(forKey: key)
            raised += judgePayload(waiting, now: now)
        }
        return raised
    }

    /// A server's first payload waits while its request has not been judged
    /// and there is room to hold it; without room it is judged at once.
    private func shouldWait(_ event: FlowEvent) -> Bool {
        guard !event.payload.isEmpty, (judged[event.key] ?? 0) & Self.requestJudged == 0,
            waitingResponses[event.key] == nil
        else { return false }
        return judged.count + waitingResponses.count < config.maxTrackedFlows
    }

    /// A `.payload` event: a request from the pod or a response to it.
    private mutating func judgePayload(_ event: FlowEvent, now: UInt64) -> [Alert] {
        let payload = event.payload
        let direction = event.direction
        guard !payload.isEmpty else { return [] }
        let bit = direction == .fromPod ? Self.requestJudged : Self.responseJudged
        let state = judged[event.key] ?? 0
        guard state & bit == 0 else { return [] }

        let verdict =
            direction == .fromPod
            ? PayloadClassifier.classifyRequest(payload)
            : PayloadClassifier.classifyResponse(payload, afterHTTP2Preface: state & Self.spokeHTTP2 != 0)
        stats.judged += 1
        let newState = state | bit | (verdict == .http2Preface ? Self.spokeHTTP2 : 0)
        if state != 0 || judged.count + waitingResponses.count < config.maxTrackedFlows {
            judged[event.key] = newState
        } else {
            stats.untrackedFlows += 1
        }
        guard !verdict.isHTTP else { return [] }
        stats.mismatches += 1
        return [makeAlert(event, direction: direction, verdict: verdict, now: now)]
    }

    private func makeAlert(_ event: FlowEvent, direction: FlowDirection, verdict: PayloadProtocol, now: UInt64) -> Alert {
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
            decidingNs: event.timestamp,
            now: now)
    }

    public var memory: MemoryEstimate {
        MemoryEstimate(flowBytes: tableBytes(judged) + tableBytes(waitingResponses), trackedFlows: trackedFlows)
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
