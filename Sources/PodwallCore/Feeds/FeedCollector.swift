/// The state every format parser shares: policy checks, error collection
/// and the final strict/lenient verdict.
struct FeedCollector {
    let source: String
    let policy: FeedPolicy
    let mode: FeedMode
    private(set) var errors: [FeedError] = []
    private(set) var errorCount = 0
    var lineCount = 0

    init(source: String, policy: FeedPolicy, mode: FeedMode) {
        self.source = source
        self.policy = policy
        self.mode = mode
    }

    /// Records one bad line; callers report at most one error per line so
    /// that the error count is also the skipped-line count.
    mutating func report(line: Int, _ reason: String) {
        errorCount += 1
        if errors.count < FeedRejection.keptErrorLimit {
            errors.append(FeedError(source: source, line: line, reason: reason))
        }
    }

    /// Adds the address or prefix `token` (raw feed bytes) or reports why not.
    @inline(__always)
    mutating func add(token: UTF8Bytes, line: Int, metadata: FeedEntryMetadata? = nil, to builder: inout ParsedFeedBuilder) {
        add(IPPrefix.parse(utf8: token), token: token.text, line: line, metadata: metadata, to: &builder)
    }

    /// Same for a token that is already a String (JSON and CSV values).
    mutating func add(token: String, line: Int, metadata: FeedEntryMetadata? = nil, to builder: inout ParsedFeedBuilder) {
        add(IPPrefix.parse(token), token: token, line: line, metadata: metadata, to: &builder)
    }

    /// For line formats: the entry must be exactly one token.
    @inline(__always)
    mutating func add(
        token: UTF8Bytes, extra: UTF8Bytes, line: Int, metadata: FeedEntryMetadata? = nil, to builder: inout ParsedFeedBuilder
    ) {
        guard extra.isEmpty else {
            report(line: line, "unexpected text '\(extra.text)' after '\(token.text)'")
            return
        }
        add(token: token, line: line, metadata: metadata, to: &builder)
    }

    @inline(__always)
    private mutating func add(
        _ parsed: Result<IPPrefix, IPParseError>, token: @autoclosure () -> String, line: Int,
        metadata: FeedEntryMetadata?, to builder: inout ParsedFeedBuilder
    ) {
        switch parsed {
        case .failure(let error):
            report(line: line, error.reason(for: token()))
        case .success(let prefix):
            // Single addresses, most entries, are never too broad.
            if !prefix.isSingleAddress, let refusal = policy.refusal(of: prefix, token: token()) {
                report(line: line, refusal)
            } else {
                builder.add(prefix, metadata: metadata, line: line, limit: policy.maxEntries)
            }
        }
    }

    /// A rejection for a document-level problem (broken JSON, wrong shape):
    /// nothing after it can be trusted, so even lenient mode gives up.
    func rejection(line: Int, _ reason: String) -> FeedRejection {
        rejection(adding: FeedError(source: source, line: line, reason: reason))
    }

    private func rejection(adding fatal: FeedError) -> FeedRejection {
        // The fatal error goes first so the cap never hides it.
        let kept = Array(([fatal] + errors).prefix(FeedRejection.keptErrorLimit))
        return FeedRejection(source: source, errors: kept, errorCount: errorCount + 1)
    }

    /// The verdict: rejects on too many entries (any mode) or on any bad
    /// line (strict mode); otherwise one feed per builder.
    func finish(_ builders: [ParsedFeedBuilder]) throws(FeedRejection) -> [ParsedFeed] {
        for builder in builders {
            if let line = builder.firstOverflowLine {
                let reason = "feed has \(builder.prefixes.count) entries, more than the maximum of \(policy.maxEntries)"
                throw rejection(line: line, reason)
            }
        }
        if mode == .strict, errorCount > 0 {
            throw FeedRejection(source: source, errors: errors, errorCount: errorCount)
        }
        return builders.map {
            ParsedFeed(builder: $0, source: source, lineCount: lineCount, skippedCount: errorCount, errors: errors)
        }
    }

    func finish(_ builder: ParsedFeedBuilder) throws(FeedRejection) -> ParsedFeed {
        try finish([builder])[0]
    }

    /// The loop of the line-oriented formats: `handle` sees each line that
    /// is not blank, trimmed, and decides what it holds.
    static func parseLines(
        _ text: UTF8Bytes, source: String, policy: FeedPolicy, mode: FeedMode,
        _ handle: (inout FeedCollector, inout ParsedFeedBuilder, Int, UTF8Bytes) -> Void
    ) throws(FeedRejection) -> ParsedFeed {
        var collector = FeedCollector(source: source, policy: policy, mode: mode)
        let lineCount = FeedText.countLines(text)
        var builder = ParsedFeedBuilder(expectedCount: min(lineCount, policy.maxEntries))
        var lines = FeedLines(text)
        while let (number, line) = lines.next() {
            let trimmed = line.trimmingSpaces()
            if !trimmed.isEmpty { handle(&collector, &builder, number, trimmed) }
        }
        collector.lineCount = lines.number
        return try collector.finish(builder)
    }
}
