import PodwallCore

/// What the first bytes of one flow direction look like.
public enum PayloadProtocol: String, Sendable, Codable {
    case http1
    case http2Preface = "http2_preface"
    case httpResponse = "http_response"
    case http2Frame = "http2_frame"
    case tlsClientHello = "tls_client_hello"
    case tls
    case ssh
    case socks4
    case socks5
    /// Printable text with no HTTP shape: a reverse shell, a banner, a custom text protocol.
    case shellOrText = "shell_or_text"
    case binary
    case nonHTTPResponse = "non_http_response"

    public var isHTTP: Bool {
        switch self {
        case .http1, .http2Preface, .httpResponse, .http2Frame: true
        default: false
        }
    }
}

/// Judges at most 32 leading bytes. Truncation is expected, so HTTP is accepted whenever the
/// bytes seen so far are a prefix of something valid ("GET /very/long/path/that/is/cut").
public enum PayloadClassifier {
    /// Client to server: an HTTP/1.x request line, the HTTP/2 preface, or what it is instead.
    public static func classifyRequest(_ bytes: PayloadPrefix) -> PayloadProtocol {
        if isPrefix(bytes, of: http2Preface) { return .http2Preface }
        if isHTTP1RequestPrefix(bytes) { return .http1 }
        return identify(bytes)
    }

    /// Server to client: an HTTP/1.x status line (or, after an HTTP/2 preface, the server's
    /// SETTINGS frame, or the bare HTML error page an HTTP/1-only server sends back in
    /// HTTP/0.9 style when it cannot parse the preface); anything else is `.nonHTTPResponse`.
    public static func classifyResponse(_ bytes: PayloadPrefix, afterHTTP2Preface: Bool = false) -> PayloadProtocol {
        if afterHTTP2Preface && isHTTP2SettingsPrefix(bytes) { return .http2Frame }
        if afterHTTP2Preface && isHTMLDocumentPrefix(bytes) { return .httpResponse }
        if isPrefix(bytes, of: httpResponse) && (bytes.count <= httpResponse.count || isDigit(bytes[httpResponse.count])) {
            return .httpResponse
        }
        return .nonHTTPResponse
    }

    /// Names non-HTTP bytes when recognisable.
    public static func identify(_ bytes: PayloadPrefix) -> PayloadProtocol {
        let count = bytes.count
        if count >= 3, bytes[1] == 0x03, bytes[2] <= 0x04, (0x14...0x17).contains(bytes[0]) {
            // Record type 0x16 is a handshake; handshake type 0x01 (byte 5) is ClientHello.
            return bytes[0] == 0x16 && (count < 6 || bytes[5] == 0x01) ? .tlsClientHello : .tls
        }
        if count >= sshBanner.count && isPrefix(bytes, of: sshBanner) { return .ssh }
        if isSOCKS5Greeting(bytes) { return .socks5 }
        if isSOCKS4Request(bytes) { return .socks4 }
        if bytes.allSatisfy(isText) { return .shellOrText }
        return .binary
    }

    // MARK: - Shapes

    static let htmlStarts: [[UInt8]] = ["<!doctype html", "<html"].map { Array($0.utf8) }

    /// "<!DOCTYPE HTML" or "<html", in any case.
    static func isHTMLDocumentPrefix(_ bytes: PayloadPrefix) -> Bool {
        let lowered = bytes.prefix(14).map { (0x41...0x5a).contains($0) ? $0 | 0x20 : $0 }
        return htmlStarts.contains { start in lowered.count >= min(start.count, 5) && zip(lowered, start).allSatisfy { $0 == $1 } }
    }

    private static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private static let httpResponse = Array("HTTP/".utf8)
    private static let sshBanner = Array("SSH-".utf8)
    /// After "METHOD SP target SP": the version and line end; "#" stands for any digit.
    private static let requestVersion = Array("HTTP/1.#\r\n".utf8)

    /// METHOD SP request-target SP "HTTP/1." DIGIT CRLF, judged only as far as the bytes go.
    /// METHOD is any all-uppercase token of 3-16 letters (covers GET ... PATCH and extensions).
    static func isHTTP1RequestPrefix(_ bytes: PayloadPrefix) -> Bool {
        let count = bytes.count
        var index = 0
        while index < count && isUpper(bytes[index]) { index += 1 }
        if index == count { return index <= 16 }
        guard (3...16).contains(index), bytes[index] == space else { return false }
        index += 1
        let targetStart = index
        while index < count && isVisible(bytes[index]) { index += 1 }
        if index == count { return true }
        guard index > targetStart, bytes[index] == space else { return false }
        index += 1
        for expected in requestVersion where index < count {
            let byte = bytes[index]
            guard expected == UInt8(ascii: "#") ? isDigit(byte) : byte == expected else { return false }
            index += 1
        }
        return true
    }

    /// Frame header: 24-bit length, type 0x04 (SETTINGS), flags, stream id 0.
    static func isHTTP2SettingsPrefix(_ bytes: PayloadPrefix) -> Bool {
        if bytes.count > 3 && bytes[3] != 0x04 { return false }
        // Stream id: bytes 5-8, the top bit reserved.
        for index in 5..<max(5, min(bytes.count, 9)) where bytes[index] & (index == 5 ? 0x7f : 0xff) != 0 {
            return false
        }
        return true
    }

    /// VER=5, NMETHODS >= 1, then that many method ids (0x00-0x09 assigned, 0x80-0xFE private),
    /// and nothing after: the client waits for the server's choice.
    static func isSOCKS5Greeting(_ bytes: PayloadPrefix) -> Bool {
        guard bytes.count >= 3, bytes[0] == 0x05, bytes[1] >= 1, bytes.count <= 2 + Int(bytes[1]) else { return false }
        return bytes.dropFirst(2).allSatisfy { $0 <= 0x09 || (0x80...0xfe).contains($0) }
    }

    /// VN=4, CD=1 (connect) or 2 (bind), port, IPv4, then a NUL-terminated user id.
    static func isSOCKS4Request(_ bytes: PayloadPrefix) -> Bool {
        guard bytes.count >= 9, bytes[0] == 0x04, bytes[1] == 0x01 || bytes[1] == 0x02 else { return false }
        return bytes.dropFirst(8).contains(0)
    }

    /// True when `bytes` and `literal` agree over their common length.
    private static func isPrefix(_ bytes: PayloadPrefix, of literal: [UInt8]) -> Bool {
        for index in 0..<min(bytes.count, literal.count) where bytes[index] != literal[index] { return false }
        return true
    }

    private static let space = UInt8(ascii: " ")

    private static func isUpper(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
    private static func isVisible(_ byte: UInt8) -> Bool { (0x21...0x7e).contains(byte) }
    private static func isText(_ byte: UInt8) -> Bool { (0x20...0x7e).contains(byte) || byte == 0x09 || byte == 0x0a || byte == 0x0d }

    // MARK: - Previews

    public static func hexPreview(_ bytes: PayloadPrefix) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Printable ASCII kept, everything else shown as ".".
    public static func textPreview(_ bytes: PayloadPrefix) -> String {
        String(decoding: bytes.map { (0x20...0x7e).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }
}
