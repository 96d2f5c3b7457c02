/// The feed formats podwall reads, named as in its configuration.
public enum FeedFormat: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case plain
    /// FireHOL `.netset`: a plain list with a `#` header.
    case netset
    case spamhausDrop = "spamhaus-drop"
    case spamhausDropJSON = "spamhaus-drop-json"
    /// abuse.ch Feodo Tracker plain list.
    case feodo
    case feodoCSV = "feodo-csv"
    case crowdsec

    /// The configuration name, e.g. `spamhaus-drop-json`.
    public var name: String { rawValue }
    public var description: String { rawValue }

    /// Looks a format up by configuration name, ignoring case.
    public init?(name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// False for CrowdSec, whose documents are changes rather than a whole list.
    public var isSnapshot: Bool { self != .crowdsec }

    /// Guesses the format from content. Only the comment lines and the first
    /// entry line are looked at; unrecognised JSON is taken for CrowdSec and
    /// anything else for `.plain`, whose errors then say what is wrong. The
    /// FireHOL and Feodo plain lists parse exactly like `.plain`, so they are
    /// reported as `.plain`.
    public static func detect(_ text: String) -> FeedFormat {
        FeedText.withUTF8(text) { detect(utf8: $0) }
    }

    public static func detect(utf8 text: UnsafeBufferPointer<UInt8>) -> FeedFormat {
        var sawSemicolonComment = false
        for (_, rawLine) in FeedLines(text) {
            let line = rawLine.trimmingSpaces()
            switch line.first {
            case nil, FeedText.hash?:
                continue
            case FeedText.semicolon?:
                sawSemicolonComment = true
            case UInt8(ascii: "{")?:
                let offset = line.baseAddress! - text.baseAddress!
                return detectJSON(firstLine: line, from: UnsafeBufferPointer(rebasing: text[offset...]))
            default:
                if line.contains(","), CSVRow.fields(line)?.count == FeodoCSVParser.columns.count { return .feodoCSV }
                let entry = line.split(at: FeedText.hash).before
                return sawSemicolonComment || entry.contains(";") ? .spamhausDrop : .plain
            }
        }
        return sawSemicolonComment ? .spamhausDrop : .plain
    }

    /// `{"cidr"` is Spamhaus, `{"new"`/`{"deleted"` CrowdSec. CrowdSec
    /// documents may be pretty-printed, so the first key is looked for past
    /// line breaks; Spamhaus objects may order keys differently.
    private static func detectJSON(firstLine: UTF8Bytes, from text: UTF8Bytes) -> FeedFormat {
        var index = 1
        while index < text.count, [0x20, 0x09, 0x0a, 0x0d].contains(text[index]) { index += 1 }
        let afterBrace = UnsafeBufferPointer(rebasing: text[index...])
        if afterBrace.starts(with: "\"new\"") || afterBrace.starts(with: "\"deleted\"") { return .crowdsec }
        return firstLine.contains("\"cidr\"") ? .spamhausDropJSON : .crowdsec
    }
}
