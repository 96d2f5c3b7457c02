import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Alert JSON lines")
struct AlertJSONTests {
    func sampleAlert() -> Alert {
        var aggregator = Aggregator()
        var reports: [Alert] = []
        for port in UInt16(1)...4 {
            let key = flow(podPort: 50_000 + port, to: "10.1.3.4", port: port)
            reports += aggregator.observe(opened(key, at: Clock.t0), now: Clock.t0)
            reports += aggregator.observe(refused(key, at: Clock.t0), now: Clock.t0 + 3 * Clock.ms)
        }
        return reports[0]
    }

    @Test("one line, snake_case keys, typed evidence and actions")
    func shape() throws {
        let line = try AlertJSON.line(sampleAlert())
        #expect(!line.contains("\n"))
        for key in [
            "\"id\":\"ps-", "\"time_ns\":", "\"time\":\"2023-11-14T22:13:20.003000000Z\"", "\"kind\":\"port_scan\"",
            "\"severity\":\"medium\"", "\"detection_latency_ms\":3", "\"count\":1", "\"is_update\":false",
            "\"window_start_ns\":", "\"evidence\":{", "\"type\":\"port_scan\"", "\"probed_hosts\":1",
            "\"probed_ports\":4", "\"failure_ratio\":1", "\"scan_type\":\"vertical\"", "\"protocol\":\"tcp\"",
            "\"tcp_probe_styles\":[\"syn\"]", "\"local_port\":50001", "\"remote\":\"10.1.3.4\"",
            "\"actions\":[{\"ifindex\":7,\"pod\":\"10.1.0.5\"", "\"type\":\"quarantine\"", "\"ttl_seconds\":600",
            "\"source\":{\"address\":\"10.1.0.5\",\"ifindex\":7}"
        ] {
            #expect(line.contains(key), "missing \(key) in \(line)")
        }
        // Every key (a quoted string followed by ":") is snake_case.
        let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
        let keys = parts.indices.filter { $0 % 2 == 1 && $0 + 1 < parts.count && parts[$0 + 1].hasPrefix(":") }.map { parts[$0] }
        #expect(keys.count > 30)
        #expect(keys.allSatisfy { $0.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" } }, "\(keys)")
    }

    @Test("lines round-trip")
    func roundTrip() throws {
        let alert = sampleAlert()
        #expect(try AlertJSON.decode(AlertJSON.line(alert)) == alert)
        let lines = try AlertJSON.lines([alert, alert])
        #expect(lines.split(separator: "\n").count == 2 && lines.hasSuffix("\n"))
    }

    @Test("every evidence kind and action round-trips")
    func allKinds() throws {
        let key = flow(to: "203.0.113.9", port: 80)
        let source = AlertSource(key.source)
        let evidences: [Evidence] = [
            .exfiltration(
                ExfiltrationEvidence(
                    scope: .pod, bytesInInterval: 1, baselineMean: 2, sigma: 3, k: 3, floorBytes: 4, thresholdBytes: 5,
                    destination: nil, intervalStartNs: 6, intervalSeconds: 10, intervalsObserved: 7)),
            .protocolMismatch(
                ProtocolMismatchEvidence(
                    protocolName: "non_http_response", looksLike: "ssh", direction: .toPod, remotePort: 80,
                    byteCount: 4, hexPreview: "5353482d", textPreview: "SSH-")),
            .blocklistHit(
                BlocklistEvidence(
                    matchedPrefix: "203.0.113.0/24", reason: .blocklist, remote: key.remote,
                    remotePort: 80, proto: .tcp)),
            .quarantineDrop(
                BlocklistEvidence(
                    matchedPrefix: "", reason: .quarantine, remote: key.remote,
                    remotePort: 80, proto: .tcp))
        ]
        for evidence in evidences {
            var alert = Alert(
                kind: evidence.kind, severity: .critical, source: source, flows: [key], evidence: evidence,
                decidingNs: 0, now: 1)
            alert.actions = [.none, .block(remote: key.remote, ttlSeconds: 1), .capture(id: "x")]
            #expect(try AlertJSON.decode(AlertJSON.line(alert)) == alert)
        }
        #expect(
            try AlertJSON.line(
                Alert(
                    kind: .exfiltration, severity: .high, source: source, flows: [],
                    evidence: evidences[0], decidingNs: 0, now: 0)
            ).contains("\"bytes_in_interval\":1"))
    }

    @Test("RFC 3339 text with nanoseconds")
    func rfc3339() {
        #expect(Timestamp.rfc3339(nanoseconds: 0, fractionDigits: 9) == "1970-01-01T00:00:00.000000000Z")
        #expect(Timestamp.rfc3339(nanoseconds: 1_700_000_000_123_456_789, fractionDigits: 9) == "2023-11-14T22:13:20.123456789Z")
        #expect(Timestamp.rfc3339(nanoseconds: 951_782_400 * 1_000_000_000, fractionDigits: 9) == "2000-02-29T00:00:00.000000000Z")
    }
}
