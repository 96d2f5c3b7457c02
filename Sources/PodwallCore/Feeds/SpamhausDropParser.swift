/// Spamhaus DROP/EDROP text: `;` comments, entries like
/// `1.10.16.0/20 ; SBL256894` whose trailing comment is the SBL record id.
public enum SpamhausDropParser: FeedTextParser {
    public static func parse(
        utf8 text: UnsafeBufferPointer<UInt8>, source: String, policy: FeedPolicy, mode: FeedMode
    ) throws(FeedRejection) -> ParsedFeed {
        try FeedCollector.parseLines(text, source: source, policy: policy, mode: mode) { collector, builder, number, line in
            let (token, extra, comment) = line.entryParts(commentMarker: FeedText.semicolon)
            guard !token.isEmpty else { return }  // a comment line
            let sblID = comment.map { $0.trimmingSpaces() }.flatMap { $0.isEmpty ? nil : $0.text }
            collector.add(token: token, extra: extra, line: number, metadata: FeedEntryMetadata(sblID: sblID), to: &builder)
        }
    }
}
