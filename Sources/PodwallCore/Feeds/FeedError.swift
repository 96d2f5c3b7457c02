/// One bad line of a feed. The description, `source:line: reason`, is the
/// compiler-style text operators grep for and editors can jump to.
public struct FeedError: Error, Hashable, Sendable, CustomStringConvertible {
    public let source: String
    /// 1-based line number in the feed text.
    public let line: Int
    public let reason: String

    public init(source: String, line: Int, reason: String) {
        self.source = source
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(source):\(line): \(reason)" }
}

/// A feed refused as a whole: in strict mode any bad line, in either mode a
/// broken document or too many entries. Keeping the old kernel state is
/// safer than loading a half-understood list.
public struct FeedRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// How many errors are kept verbatim; a broken 1M-line feed must not
    /// produce 1M error strings.
    public static let keptErrorLimit = 100

    public let source: String
    /// The first `keptErrorLimit` errors in line order.
    public let errors: [FeedError]
    /// All errors, including those not kept.
    public let errorCount: Int

    public init(source: String, errors: [FeedError], errorCount: Int) {
        self.source = source
        self.errors = errors
        self.errorCount = errorCount
    }

    public var description: String {
        let noun = errorCount == 1 ? "error" : "errors"
        var lines = ["\(source): feed rejected, \(errorCount) \(noun)"] + errors.map(\.description)
        if errorCount > errors.count {
            lines.append("\(source): \(errorCount - errors.count) more errors not shown")
        }
        return lines.joined(separator: "\n")
    }
}
