/// What a feed document amounts to.
public enum FeedContent: Hashable, Sendable {
    /// A whole list: replaces everything the feed listed before.
    case snapshot(ParsedFeed)
    /// CrowdSec changes since the previous poll.
    case decisions(CrowdSecStream)
}

/// Entry point when the format comes from configuration or detection.
public enum FeedParser {
    /// Parses `text` as `format`, or as the detected format when nil.
    public static func parse(
        _ text: String, source: String, format: FeedFormat? = nil,
        policy: FeedPolicy = FeedPolicy(), mode: FeedMode = .strict
    ) throws(FeedRejection) -> FeedContent {
        try FeedText.withUTF8(text) { bytes throws(FeedRejection) in
            try parse(utf8: bytes, source: source, format: format, policy: policy, mode: mode)
        }
    }

    public static func parse(
        _ bytes: [UInt8], source: String, format: FeedFormat? = nil,
        policy: FeedPolicy = FeedPolicy(), mode: FeedMode = .strict
    ) throws(FeedRejection) -> FeedContent {
        try FeedText.withUTF8(bytes) { bytes throws(FeedRejection) in
            try parse(utf8: bytes, source: source, format: format, policy: policy, mode: mode)
        }
    }

    public static func parse(
        utf8 text: UnsafeBufferPointer<UInt8>, source: String, format: FeedFormat? = nil,
        policy: FeedPolicy = FeedPolicy(), mode: FeedMode = .strict
    ) throws(FeedRejection) -> FeedContent {
        switch format ?? FeedFormat.detect(utf8: text) {
        case .plain, .netset, .feodo:
            return .snapshot(try PlainListParser.parse(utf8: text, source: source, policy: policy, mode: mode))
        case .spamhausDrop:
            return .snapshot(try SpamhausDropParser.parse(utf8: text, source: source, policy: policy, mode: mode))
        case .spamhausDropJSON:
            return .snapshot(try SpamhausDropJSONParser.parse(utf8: text, source: source, policy: policy, mode: mode))
        case .feodoCSV:
            return .snapshot(try FeodoCSVParser.parse(utf8: text, source: source, policy: policy, mode: mode))
        case .crowdsec:
            return .decisions(try CrowdSecStreamParser.parse(utf8: text, source: source, policy: policy, mode: mode))
        }
    }
}
