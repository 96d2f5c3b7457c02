import PodwallCore
import Testing
@testable import PodwallDetection

@Suite("Payload classification")
struct PayloadClassifierTests {
    static let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x5e, 0x1a]

    @Test(
        "HTTP request prefixes are HTTP",
        arguments: [
            "GET / HTTP/1.1\r\nHost: api\r\n\r\n",
            "POST /v1/orders HTTP/1.1\r\nContent-Length: 17",
            "GET /very/long/path/that/is/cut/off/at/32/bytes/and/more",
            "OPTIONS * HTTP/1.0\r\n",
            "PROPFIND /dav/ HTTP/1.1\r\n",
            "CONNECT db:5432 HTTP/1.1\r\n",
            "HEAD /healthz HTTP/1.1",
            "DELETE /x HTTP/1.",
            "PATCH"
        ])
    func http1(_ text: String) {
        #expect(PayloadClassifier.classifyRequest(PayloadPrefix(text)) == .http1)
    }

    @Test("the HTTP/2 prior-knowledge preface (and its prefix) is HTTP")
    func http2Preface() {
        #expect(PayloadClassifier.classifyRequest(PayloadPrefix("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")) == .http2Preface)
        #expect(PayloadClassifier.classifyRequest(PayloadPrefix("PRI * HTTP/2")) == .http2Preface)
    }

    @Test(
        "non-HTTP client bytes are named",
        arguments: [
            (PayloadPrefix(clientHello), PayloadProtocol.tlsClientHello),
            (PayloadPrefix([0x16, 0x03, 0x03, 0x00, 0x40, 0x02]), .tls),
            (PayloadPrefix("SSH-2.0-OpenSSH_9.2\r\n"), .ssh),
            (PayloadPrefix("/bin/sh -i\n"), .shellOrText),
            (PayloadPrefix("uname -a; id\n"), .shellOrText),
            (PayloadPrefix("get / http/1.1\r\n"), .shellOrText),
            (PayloadPrefix("GET /x HTTP/2.0\r\n"), .shellOrText),
            (PayloadPrefix([0x05, 0x02, 0x00, 0x02]), .socks5),
            (PayloadPrefix([0x04, 0x01, 0x00, 0x50, 10, 0, 0, 1, 0x72, 0x6f, 0x6f, 0x74, 0x00]), .socks4),
            (PayloadPrefix([0x8f, 0x3a, 0x00, 0xd1, 0x7e, 0x22, 0x91, 0x04, 0xff, 0x10]), .binary)
        ])
    func mismatches(_ bytes: PayloadPrefix, _ expected: PayloadProtocol) {
        let verdict = PayloadClassifier.classifyRequest(bytes)
        #expect(verdict == expected)
        #expect(!verdict.isHTTP)
    }

    @Test("responses must look like an HTTP status line")
    func responses() {
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("HTTP/1.1 200 OK\r\n")) == .httpResponse)
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("HTTP/1.0 404 Not Found")) == .httpResponse)
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("HTT")) == .httpResponse)
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("SSH-2.0-OpenSSH_9.2")) == .nonHTTPResponse)
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("HTTP/x")) == .nonHTTPResponse)
        let settings: PayloadPrefix = [0x00, 0x00, 0x12, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]
        #expect(PayloadClassifier.classifyResponse(settings, afterHTTP2Preface: true) == .http2Frame)
        #expect(PayloadClassifier.classifyResponse(settings, afterHTTP2Preface: false) == .nonHTTPResponse)
        // An HTTP/1-only server answers a preface with a bare HTML error page (HTTP/0.9 style).
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("<!DOCTYPE HTML>\n<html lang"), afterHTTP2Preface: true) == .httpResponse)
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("<HTML><body>"), afterHTTP2Preface: true) == .httpResponse)
        #expect(
            PayloadClassifier.classifyResponse(PayloadPrefix("<!DOCTYPE HTML>"), afterHTTP2Preface: false) == .nonHTTPResponse,
            "only after a preface")
        #expect(PayloadClassifier.classifyResponse(PayloadPrefix("<?xml"), afterHTTP2Preface: true) == .nonHTTPResponse)
    }

    @Test("previews show hex and printable text")
    func previews() {
        let bytes: PayloadPrefix = [0x53, 0x53, 0x48, 0x2d, 0x0d, 0x0a, 0xff]
        #expect(PayloadClassifier.hexPreview(bytes) == "5353482d0d0aff")
        #expect(PayloadClassifier.textPreview(bytes) == "SSH-...")
    }

    @Test("payload prefixes keep at most 32 bytes, inline")
    func payloadPrefix() {
        let long = PayloadPrefix(String(repeating: "a", count: 100))
        #expect(long.count == 32)
        #expect(PayloadPrefix([1, 2, 3]).bytes == [1, 2, 3])
        #expect(MemoryLayout<PayloadPrefix>.size <= 33)
    }
}
