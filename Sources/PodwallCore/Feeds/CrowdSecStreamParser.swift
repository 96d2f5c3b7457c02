/// The two halves of a CrowdSec decisions stream poll. Apply `deleted`
/// before `added`, as CrowdSec's own bouncers do, so a decision replaced
/// within one poll ends up present. Both halves carry the error and skip
/// counts of the whole document.
public struct CrowdSecStream: Hashable, Sendable {
    /// New decisions; metadata carries `ttlSeconds`, `scenario`, `origin`.
    public let added: ParsedFeed
    /// Expired or revoked decisions.
    public let deleted: ParsedFeed

    public init(added: ParsedFeed, deleted: ParsedFeed) {
        self.added = added
        self.deleted = deleted
    }
}

/// CrowdSec LAPI `GET /v1/decisions/stream`: one JSON document
/// `{"new":[decision...],"deleted":[decision...]}`, either list possibly
/// `null`. Decisions with a scope other than `Ip`/`Range` (`Country`, `AS`,
/// ...) or a type other than `ban` (`captcha` is for the web layer) are not
/// ours to enforce; they are counted as ignored, not errors.
public enum CrowdSecStreamParser: FeedTextParser {
    public static func parse(
        utf8 text: UnsafeBufferPointer<UInt8>, source: String, policy: FeedPolicy, mode: FeedMode
    ) throws(FeedRejection) -> CrowdSecStream {
        var collector = FeedCollector(source: source, policy: policy, mode: mode)
        collector.lineCount = FeedLines(text).reduce(0) { count, _ in count + 1 }
        let document: JSONValue
        do {
            document = try JSONReader.parse(text)
        } catch {
            throw collector.rejection(line: error.line, "invalid JSON: \(error.message)")
        }
        guard let root = document.objectValue else { throw collector.rejection(line: 1, "not a JSON object") }
        guard root["new"] != nil || root["deleted"] != nil else {
            throw collector.rejection(line: root.line, "JSON object has neither 'new' nor 'deleted'")
        }
        var added = ParsedFeedBuilder()
        var deleted = ParsedFeedBuilder()
        for decision in try decisions(root, "new", collector) {
            add(decision, isNew: true, parentLine: root.line, to: &added, collector: &collector)
        }
        for decision in try decisions(root, "deleted", collector) {
            add(decision, isNew: false, parentLine: root.line, to: &deleted, collector: &collector)
        }
        let feeds = try collector.finish([added, deleted])
        return CrowdSecStream(added: feeds[0], deleted: feeds[1])
    }

    private static func decisions(_ root: JSONObject, _ key: String, _ collector: FeedCollector) throws(FeedRejection) -> [JSONValue] {
        switch root[key] {
        case nil, .null?: return []
        case .array(let decisions)?: return decisions
        default: throw collector.rejection(line: root.line, "'\(key)' is not a list of decisions")
        }
    }

    private static func add(
        _ value: JSONValue, isNew: Bool, parentLine: Int, to builder: inout ParsedFeedBuilder, collector: inout FeedCollector
    ) {
        guard let decision = value.objectValue else {
            collector.report(line: parentLine, "decision is not a JSON object")
            return
        }
        let line = decision.line
        guard let scope = decision["scope"]?.stringValue else {
            collector.report(line: line, "decision has no 'scope' string")
            return
        }
        let type = decision["type"]?.stringValue?.lowercased() ?? "ban"
        guard ["ip", "range"].contains(scope.lowercased()), type == "ban" else {
            builder.ignoredCount += 1
            return
        }
        guard let address = decision["value"]?.stringValue else {
            collector.report(line: line, "decision has no 'value' string")
            return
        }
        var metadata = FeedEntryMetadata(scenario: decision["scenario"]?.stringValue, origin: decision["origin"]?.stringValue)
        if isNew {
            // Deleted decisions carry negative (already elapsed) durations; only new ones need a TTL.
            guard let duration = decision["duration"]?.stringValue else {
                collector.report(line: line, "decision has no 'duration' string")
                return
            }
            guard let seconds = GoDuration.seconds(duration) else {
                collector.report(line: line, "'\(duration)' is not a duration")
                return
            }
            guard seconds > 0 else {
                collector.report(line: line, "'\(duration)' is not a positive duration")
                return
            }
            // Rounded up: never lift a ban before CrowdSec would.
            metadata.ttlSeconds = Int(seconds.rounded(.up))
        }
        collector.add(token: address, line: line, metadata: metadata, to: &builder)
    }
}
