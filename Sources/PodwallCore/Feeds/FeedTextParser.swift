/// One feed format. Implementations parse UTF-8 bytes; the String and
/// `[UInt8]` entry points come from the extension so no parser repeats them.
public protocol FeedTextParser {
    associatedtype Output

    /// Parses a whole feed document. `source` names it in errors.
    static func parse(
        utf8 text: UnsafeBufferPointer<UInt8>, source: String, policy: FeedPolicy, mode: FeedMode
    ) throws(FeedRejection) -> Output
}

extension FeedTextParser {
    public static func parse(
        _ text: String, source: String, policy: FeedPolicy = FeedPolicy(), mode: FeedMode = .strict
    ) throws(FeedRejection) -> Output {
        try FeedText.withUTF8(text) { bytes throws(FeedRejection) in
            try parse(utf8: bytes, source: source, policy: policy, mode: mode)
        }
    }

    public static func parse(
        _ bytes: [UInt8], source: String, policy: FeedPolicy = FeedPolicy(), mode: FeedMode = .strict
    ) throws(FeedRejection) -> Output {
        try FeedText.withUTF8(bytes) { bytes throws(FeedRejection) in
            try parse(utf8: bytes, source: source, policy: policy, mode: mode)
        }
    }
}
