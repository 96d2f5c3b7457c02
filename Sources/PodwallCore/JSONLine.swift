/// A small ordered JSON object writer for JSON-lines output: fields come out
/// in the order written, and no reflection runs per record.
public struct JSONLine {
    private var text = "{"

    public init() {}

    public mutating func field(_ name: String, _ value: String) {
        key(name)
        Self.appendQuoted(value, to: &text)
    }

    public mutating func field<I: BinaryInteger>(_ name: String, _ value: I) {
        key(name)
        text += String(value)
    }

    public mutating func field(_ name: String, _ value: Double) {
        key(name)
        text += value.isFinite ? String(value) : "null"
    }

    public mutating func field(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    public mutating func field(_ name: String, _ values: [String]) {
        key(name)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            Self.appendQuoted(value, to: &text)
        }
        text += "]"
    }

    public mutating func field(_ name: String, object: JSONLine) {
        key(name)
        text += object.rendered
    }

    public var rendered: String { text + "}" }

    private mutating func key(_ name: String) {
        if text.count > 1 { text += "," }
        Self.appendQuoted(name, to: &text)
        text += ":"
    }

    static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
