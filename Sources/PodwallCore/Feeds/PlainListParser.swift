/// Plain lists, FireHOL `.netset` and the abuse.ch Feodo plain list: one
/// address or CIDR per line, `#` comments on their own line or trailing.
public enum PlainListParser: FeedTextParser {
    public static func parse(
        utf8 text: UnsafeBufferPointer<UInt8>, source: String, policy: FeedPolicy, mode: FeedMode
    ) throws(FeedRejection) -> ParsedFeed {
        try FeedCollector.parseLines(text, source: source, policy: policy, mode: mode) { collector, builder, number, line in
            let (token, extra, _) = line.entryParts(commentMarker: FeedText.hash)
            guard !token.isEmpty else { return }  // a comment line
            collector.add(token: token, extra: extra, line: number, to: &builder)
        }
    }
}
