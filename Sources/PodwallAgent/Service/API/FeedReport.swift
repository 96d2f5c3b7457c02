/// `PUT /v1/feeds/{name}`: what loading the document changed.
struct FeedReport: APIResponseBody, Decodable {
    let name: String
    let entries: Int
    let skippedLines: Int
    let added: Int
    let removed: Int
    let updated: Int

    init(name: String, entries: Int, skippedLines: Int, added: Int, removed: Int, updated: Int) {
        self.name = name
        self.entries = entries
        self.skippedLines = skippedLines
        self.added = added
        self.removed = removed
        self.updated = updated
    }

    init(_ report: FeedLoadReport) {
        self.init(
            name: report.name, entries: report.entries, skippedLines: report.skippedLines,
            added: report.change.added, removed: report.change.removed, updated: report.change.updated)
    }
}
