/// Spamhaus DROP JSON (`drop_v4.json`, `drop_v6.json`): one object per
/// line, `{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}`, with a
/// closing `{"type":"metadata",...}` record that carries no entry.
public enum SpamhausDropJSONParser: FeedTextParser {
    public static func parse(
        utf8 text: UnsafeBufferPointer<UInt8>, source: String, policy: FeedPolicy, mode: FeedMode
    ) throws(FeedRejection) -> ParsedFeed {
        try FeedCollector.parseLines(text, source: source, policy: policy, mode: mode) { collector, builder, number, line in
            guard let object = try? JSONReader.parse(line).objectValue else {
                collector.report(line: number, "not a JSON object")
                return
            }
            if object["type"]?.stringValue == "metadata" { return }
            guard let cidr = object["cidr"]?.stringValue else {
                collector.report(line: number, "JSON object has no 'cidr' string")
                return
            }
            let metadata = FeedEntryMetadata(sblID: object["sblid"]?.stringValue, rir: object["rir"]?.stringValue)
            collector.add(token: cidr, line: number, metadata: metadata, to: &builder)
        }
    }
}
