/// abuse.ch Feodo Tracker CSV (`ipblocklist.csv`): `#` header lines, then
/// rows `"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"`.
public enum FeodoCSVParser: FeedTextParser {
    static let columns = ["first_seen_utc", "dst_ip", "dst_port", "c2_status", "last_online", "malware"]

    public static func parse(
        utf8 text: UnsafeBufferPointer<UInt8>, source: String, policy: FeedPolicy, mode: FeedMode
    ) throws(FeedRejection) -> ParsedFeed {
        try FeedCollector.parseLines(text, source: source, policy: policy, mode: mode) { collector, builder, number, line in
            if line.first == FeedText.hash { return }
            guard let fields = CSVRow.fields(line) else {
                collector.report(line: number, "'\(line.text)' is not a valid CSV row")
                return
            }
            guard fields.count == columns.count else {
                collector.report(line: number, "row has \(fields.count) columns, expected \(columns.count)")
                return
            }
            if fields == columns { return }  // an uncommented header row
            var port: Int? = nil
            if !fields[2].isEmpty {
                guard let value = Int(fields[2]), (0...65535).contains(value) else {
                    collector.report(line: number, "'\(fields[2])' is not a port number")
                    return
                }
                port = value
            }
            let metadata = FeedEntryMetadata(
                malware: fields[5].isEmpty ? nil : fields[5], port: port, status: fields[3].isEmpty ? nil : fields[3]
            )
            collector.add(token: fields[1], line: number, metadata: metadata, to: &builder)
        }
    }
}
