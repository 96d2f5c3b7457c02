import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Protocol mismatch on HTTP ports")
struct ProtocolMismatchDetectorTests {
    let web = flow(to: "10.96.0.20", port: 80)

    /// Plays the events, then ticks once the wait for a request has passed.
    func run(_ events: [FlowEvent]) -> (ProtocolMismatchDetector, [Alert]) {
        var detector = ProtocolMismatchDetector()
        var alerts: [Alert] = []
        for event in events { alerts += detector.observe(event, now: event.timestamp + Clock.ms) }
        if let last = events.last { alerts += detector.tick(now: last.timestamp + detector.config.responseWaitNs) }
        return (detector, alerts)
    }

    @Test("keep-alive HTTP/1.1: GET, POST and their responses are fine")
    func keepAlive() {
        let (detector, alerts) = run([
            opened(web, at: Clock.t0),
            payload(web, .fromPod, "GET /items HTTP/1.1\r\nHost: web\r\n", at: Clock.t0 + 1),
            payload(web, .toPod, "HTTP/1.1 200 OK\r\nContent-Length:", at: Clock.t0 + 2),
            payload(web, .fromPod, "POST /items HTTP/1.1\r\nHost: web", at: Clock.t0 + 3),
            ended(web, at: Clock.t0 + 4)
        ])
        #expect(alerts.isEmpty)
        #expect(detector.stats.judged == 2)
        #expect(detector.trackedFlows == 0)
    }

    @Test("HTTP/2 prior knowledge: preface then the server's SETTINGS frame")
    func http2() {
        let settings: PayloadPrefix = [0x00, 0x00, 0x12, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]
        let (_, alerts) = run([
            payload(web, .fromPod, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", at: Clock.t0),
            payload(web, .toPod, settings, at: Clock.t0 + 1)
        ])
        #expect(alerts.isEmpty)
    }

    @Test("a TLS ClientHello to port 80 is a mismatch with its evidence")
    func tlsOnPort80() {
        let hello = PayloadPrefix(PayloadClassifierTests.clientHello)
        let (_, alerts) = run([payload(web, .fromPod, hello, at: Clock.t0)])
        let alert = try! #require(alerts.first)
        let evidence = try! #require(alert.mismatch)
        #expect(evidence.protocolName == "tls_client_hello")
        #expect(evidence.direction == .fromPod)
        #expect(evidence.remotePort == 80)
        #expect(evidence.byteCount == hello.count)
        #expect(evidence.hexPreview.hasPrefix("160301"))
        #expect(alert.severity == .medium)
        #expect(alert.flows == [web])
        #expect(alert.detectionLatencyMs == 1)
    }

    @Test(
        "interactive protocols on port 80 are high severity",
        arguments: [
            ("SSH-2.0-OpenSSH_9.2\r\n", "ssh"),
            ("/bin/sh -i\n", "shell_or_text")
        ])
    func interactive(_ text: String, _ name: String) {
        let (_, alerts) = run([payload(web, .fromPod, PayloadPrefix(text), at: Clock.t0)])
        #expect(alerts.first?.mismatch?.protocolName == name)
        #expect(alerts.first?.severity == .high)
    }

    @Test("a server answering SSH on port 80 is a non-HTTP response")
    func sshServer() {
        let (_, alerts) = run([payload(web, .toPod, "SSH-2.0-OpenSSH_9.2\r\n", at: Clock.t0)])
        let evidence = try! #require(alerts.first?.mismatch)
        #expect(evidence.protocolName == "non_http_response")
        #expect(evidence.looksLike == "ssh")
        #expect(evidence.direction == .toPod)
        #expect(evidence.textPreview == "SSH-2.0-OpenSSH_9.2..")
    }

    @Test("an HTTP/2 server's answer that reaches the detector before the preface is not a mismatch")
    func answerBeforeRequest() {
        let settings: PayloadPrefix = [0x00, 0x00, 0x12, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]
        let (detector, alerts) = run([
            payload(web, .toPod, settings, at: Clock.t0 + 1),
            payload(web, .fromPod, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", at: Clock.t0)
        ])
        #expect(alerts.isEmpty)
        #expect(detector.stats.judged == 2)
        #expect(detector.trackedFlows == 1)
    }

    @Test("a server that speaks first is judged once the wait for a request is over, or at the flow's end")
    func serverSpeaksFirst() {
        var detector = ProtocolMismatchDetector()
        let banner = payload(web, .toPod, "SSH-2.0-OpenSSH_9.2\r\n", at: Clock.t0)
        #expect(detector.observe(banner, now: Clock.t0).isEmpty)
        #expect(detector.tick(now: Clock.t0 + detector.config.responseWaitNs - 1).isEmpty)
        #expect(detector.tick(now: Clock.t0 + detector.config.responseWaitNs).count == 1)
        #expect(detector.trackedFlows == 1)

        let other = flow(to: "10.96.0.21", port: 80)
        _ = detector.observe(payload(other, .toPod, "SSH-2.0-OpenSSH_9.2\r\n", at: Clock.t0), now: Clock.t0)
        #expect(detector.observe(ended(other, at: Clock.t0 + 1), now: Clock.t0 + 1).count == 1)
        #expect(detector.trackedFlows == 1)
    }

    @Test("with no room to wait, an answer is judged at once")
    func noRoomToWait() {
        var config = ProtocolMismatchConfig()
        config.maxTrackedFlows = 1
        var detector = ProtocolMismatchDetector(config: config)
        _ = detector.observe(payload(web, .toPod, "HTTP/1.1 200 OK\r\n", at: Clock.t0), now: Clock.t0)
        let other = flow(to: "10.96.0.21", port: 80)
        let alerts = detector.observe(payload(other, .toPod, "SSH-2.0-OpenSSH_9.2\r\n", at: Clock.t0), now: Clock.t0)
        #expect(alerts.count == 1)
        #expect(detector.stats.untrackedFlows == 1)
    }

    @Test("only the first payload of each direction is judged")
    func firstPayloadOnly() {
        let (_, alerts) = run([
            payload(web, .fromPod, "GET / HTTP/1.1\r\n", at: Clock.t0),
            payload(web, .fromPod, [0x00, 0xff, 0x13, 0x37], at: Clock.t0 + 1)
        ])
        #expect(alerts.isEmpty)
    }

    @Test("other ports, other protocols and random binary elsewhere are not judged")
    func otherPorts() {
        let ssh = flow(to: "10.96.0.20", port: 22)
        let dns = flow(.udp, to: "10.96.0.10", port: 80)
        let (detector, alerts) = run([
            payload(ssh, .fromPod, "SSH-2.0-OpenSSH_9.2", at: Clock.t0),
            payload(dns, .fromPod, [0x12, 0x34, 0x01, 0x00], at: Clock.t0)
        ])
        #expect(alerts.isEmpty)
        #expect(detector.stats.judged == 0)
    }

    @Test("the HTTP port set is configurable")
    func configuredPorts() {
        var config = ProtocolMismatchConfig()
        config.httpPorts = [80, 8080]
        var detector = ProtocolMismatchDetector(config: config)
        let alt = flow(to: "10.96.0.20", port: 8080)
        let alerts = detector.observe(payload(alt, .fromPod, [0x8f, 0x3a, 0x00, 0xd1], at: Clock.t0), now: Clock.t0)
        #expect(alerts.first?.mismatch?.protocolName == "binary")
    }
}
