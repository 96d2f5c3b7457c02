/// A parsed JSON value. Objects remember the line they start on, which
/// Foundation's JSONSerialization cannot tell; CrowdSec errors need it.
indirect enum JSONValue: Hashable, Sendable {
    case object(JSONObject)
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }
}

struct JSONObject: Hashable, Sendable {
    /// 1-based line of the opening brace.
    let line: Int
    let members: [String: JSONValue]

    subscript(key: String) -> JSONValue? { members[key] }
}

struct JSONSyntaxError: Error, Hashable {
    let line: Int
    /// Fragment such as `unexpected 'x'`.
    let message: String
}

/// A small strict RFC 8259 reader. Feeds are untrusted input, so nesting is
/// bounded and anything outside the grammar is an error, never a guess.
struct JSONReader {
    static let maxDepth = 64

    private let text: UTF8Bytes
    private var index = 0
    private var line = 1
    private var depth = 0

    private init(_ text: UTF8Bytes) {
        self.text = text
    }

    /// Parses one complete document; trailing non-space text is an error.
    static func parse(_ text: UTF8Bytes) throws(JSONSyntaxError) -> JSONValue {
        var reader = JSONReader(text)
        let value = try reader.readValue()
        reader.skipSpace()
        guard reader.index == text.count else { throw reader.unexpected() }
        return value
    }

    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try FeedText.withUTF8(text) { bytes throws(JSONSyntaxError) in try parse(bytes) }
    }

    private var current: UInt8? { index < text.count ? text[index] : nil }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(line: line, message: message)
    }

    private func unexpected() -> JSONSyntaxError {
        guard let byte = current else { return error("unexpected end of input") }
        if byte >= 0x20, byte < 0x7f { return error("unexpected '\(Character(Unicode.Scalar(byte)))'") }
        return error("unexpected byte 0x\(String(byte, radix: 16))")
    }

    private mutating func skipSpace() {
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): break
            default: return
            }
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(JSONSyntaxError) {
        skipSpace()
        guard current == byte else { throw unexpected() }
        index += 1
    }

    private mutating func readValue() throws(JSONSyntaxError) -> JSONValue {
        skipSpace()
        guard let byte = current else { throw unexpected() }
        switch byte {
        case UInt8(ascii: "{"): return try nested { reader throws(JSONSyntaxError) in try reader.readObject() }
        case UInt8(ascii: "["): return try nested { reader throws(JSONSyntaxError) in try reader.readArray() }
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): return try readLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try readLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try readLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default: throw unexpected()
        }
    }

    private mutating func nested(_ read: (inout JSONReader) throws(JSONSyntaxError) -> JSONValue) throws(JSONSyntaxError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        depth += 1
        defer { depth -= 1 }
        return try read(&self)
    }

    private mutating func readObject() throws(JSONSyntaxError) -> JSONValue {
        let startLine = line
        index += 1  // {
        var members: [String: JSONValue] = [:]
        skipSpace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(line: startLine, members: members))
        }
        while true {
            skipSpace()
            guard current == UInt8(ascii: "\"") else { throw unexpected() }
            let key = try readString()
            try expect(UInt8(ascii: ":"))
            members[key] = try readValue()
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(JSONObject(line: startLine, members: members))
            default: throw unexpected()
            }
        }
    }

    private mutating func readArray() throws(JSONSyntaxError) -> JSONValue {
        index += 1  // [
        var elements: [JSONValue] = []
        skipSpace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try readValue())
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw unexpected()
            }
        }
    }

    private mutating func readLiteral(_ word: StaticString, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
        guard UTF8Bytes(rebasing: text[index...]).starts(with: word) else { throw unexpected() }
        index += word.utf8CodeUnitCount
        return value
    }

    private mutating func readNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        func digits(_ reader: inout JSONReader) -> Int {
            let first = reader.index
            while let byte = reader.current, byte &- UInt8(ascii: "0") < 10 { reader.index += 1 }
            return reader.index - first
        }
        if current == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits(&self)
        guard integerDigits > 0, integerDigits == 1 || text[integerStart] != UInt8(ascii: "0") else {
            throw error("invalid number")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        guard let value = Double(UTF8Bytes(rebasing: text[start..<index]).text) else { throw error("invalid number") }
        return .number(value)
    }

    private mutating func readString() throws(JSONSyntaxError) -> String {
        index += 1  // opening quote
        var bytes: [UInt8] = []
        while true {
            guard let byte = current else { throw error("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: bytes, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try readEscape(into: &bytes)
            case 0..<0x20:
                throw error("control character in string")
            default:
                bytes.append(byte)
            }
        }
    }

    private static let simpleEscapes: [UInt8: UInt8] = [
        UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5c, UInt8(ascii: "/"): 0x2f, UInt8(ascii: "b"): 0x08,
        UInt8(ascii: "f"): 0x0c, UInt8(ascii: "n"): 0x0a, UInt8(ascii: "r"): 0x0d, UInt8(ascii: "t"): 0x09
    ]

    private mutating func readEscape(into bytes: inout [UInt8]) throws(JSONSyntaxError) {
        guard let byte = current else { throw error("unterminated string") }
        index += 1
        if let replacement = Self.simpleEscapes[byte] {
            bytes.append(replacement)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw error("invalid escape in string") }
        var scalar = try readHex4()
        if (0xD800..<0xDC00).contains(scalar) {
            // A UTF-16 surrogate pair spelled as two escapes.
            guard UTF8Bytes(rebasing: text[index...]).starts(with: "\\u") else { throw error("unpaired surrogate in string") }
            index += 2
            let low = try readHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in string") }
            scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("unpaired surrogate in string") }
        bytes.append(contentsOf: String(Character(unicode)).utf8)
    }

    private mutating func readHex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= text.count else { throw error("invalid \\u escape in string") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = IPTextParser.hexValue(text[index]) else { throw error("invalid \\u escape in string") }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
