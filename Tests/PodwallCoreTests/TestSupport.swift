import PodwallTestSupport
@testable import PodwallCore

/// A prefix from text the test knows to be valid.
func prefix(_ text: String) -> IPPrefix {
    guard let prefix = IPPrefix(text) else { fatalError("test prefix '\(text)' does not parse") }
    return prefix
}

func prefixes(_ texts: String...) -> [IPPrefix] { texts.map(prefix) }

/// The rejection `body` throws, or nil when the feed was accepted.
func rejection<T>(_ body: () throws(FeedRejection) -> T) -> FeedRejection? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The `source:line: reason` texts of a rejection.
func errorTexts(_ body: () throws(FeedRejection) -> some Any) -> [String] {
    rejection(body)?.errors.map(\.description) ?? []
}
