import Dispatch

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

    /// Takes over the errors a collector of the text that follows found.
    mutating func append(_ later: FeedCollector) {
        errors += later.errors.prefix(FeedRejection.keptErrorLimit - errors.count)
        errorCount += later.errorCount
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
                builder.add(prefix, metadata: metadata, line: line)
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
        let sorted = builders.map { SortedPrefixes($0.listed) }
        for (builder, unique) in zip(builders, sorted) where unique.count > policy.maxEntries {
            let reason = "feed has \(unique.count) entries, more than the maximum of \(policy.maxEntries)"
            throw rejection(line: builder.lineOfEntry(exceeding: policy.maxEntries) ?? lineCount, reason)
        }
        if mode == .strict, errorCount > 0 {
            throw FeedRejection(source: source, errors: errors, errorCount: errorCount)
        }
        return zip(builders, sorted).map {
            ParsedFeed(builder: $0, sorted: $1, source: source, lineCount: lineCount, skippedCount: errorCount, errors: errors)
        }
    }

    func finish(_ builder: ParsedFeedBuilder) throws(FeedRejection) -> ParsedFeed {
        try finish([builder])[0]
    }

    /// The loop of the line-oriented formats: `handle` sees each line that
    /// is not blank, trimmed, and decides what it holds. A large text is
    /// cut at a line boundary and its halves parsed on two threads.
    static func parseLines(
        _ text: UTF8Bytes, source: String, policy: FeedPolicy, mode: FeedMode,
        _ handle: @Sendable (inout FeedCollector, inout ParsedFeedBuilder, Int, UTF8Bytes) -> Void
    ) throws(FeedRejection) -> ParsedFeed {
        nonisolated(unsafe) let parts = FeedText.halves(text)
        let lineCounts = parts.map(FeedText.countLines)
        let lineOffsets = [0, lineCounts[0] - 1]
        // One slot per part, each written by its own thread only.
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<(FeedCollector, ParsedFeedBuilder, lines: Int)?>.allocate(
            capacity: parts.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        withoutActuallyEscaping(handle) { handle in
            let parse: @Sendable (Int) -> Void = { index in
                var collector = FeedCollector(source: source, policy: policy, mode: mode)
                var builder = ParsedFeedBuilder(expectedCount: min(lineCounts[index], policy.maxEntries))
                var lines = FeedLines(parts[index], atStart: index == 0)
                while let (number, line) = lines.next() {
                    let trimmed = line.trimmingSpaces()
                    if !trimmed.isEmpty { handle(&collector, &builder, lineOffsets[index] + number, trimmed) }
                }
                results[index] = (collector, builder, lines.number)
            }
            if parts.count == 1 {
                parse(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: parts.count) { parse($0) }
            }
        }
        defer { _ = results.deinitialize() }
        var (collector, builder, lineCount) = results[0]!
        for case let (later, laterBuilder, lines)? in results.dropFirst() {
            collector.append(later)
            builder.append(laterBuilder)
            lineCount += lines
        }
        collector.lineCount = lineCount
        return try collector.finish(builder)
    }
}
