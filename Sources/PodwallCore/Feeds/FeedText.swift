typealias UTF8Bytes = UnsafeBufferPointer<UInt8>

/// Line and token handling on raw UTF-8, shared by every format.
enum FeedText {
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let hash = UInt8(ascii: "#")
    static let semicolon = UInt8(ascii: ";")

    /// Runs `body` over the UTF-8 of `text`; native strings are not copied.
    static func withUTF8<R, E: Error>(_ text: String, _ body: (UTF8Bytes) throws(E) -> R) throws(E) -> R {
        var text = text
        // String.withUTF8 only rethrows untyped errors; carry ours through a Result.
        let result = text.withUTF8 { bytes in Result { () throws(E) -> R in try body(bytes) } }
        return try result.get()
    }

    static func withUTF8<R, E: Error>(_ bytes: [UInt8], _ body: (UTF8Bytes) throws(E) -> R) throws(E) -> R {
        let result = bytes.withUnsafeBufferPointer { bytes in Result { () throws(E) -> R in try body(bytes) } }
        return try result.get()
    }

    /// Line count (an upper bound on entries), for reserving capacity.
    static func countLines(_ text: UTF8Bytes) -> Int {
        var count = 0
        for byte in text where byte == newline { count += 1 }
        return count + 1
    }

    /// A text of a megabyte or more cut in two just after a newline near
    /// its middle; a smaller one whole.
    static func halves(_ text: UTF8Bytes) -> [UTF8Bytes] {
        guard text.count >= 1 << 20 else { return [text] }
        var cut = text.count / 2
        while cut < text.count, text[cut - 1] != newline { cut += 1 }
        guard cut < text.count else { return [text] }
        return [text.range(0, cut), text.range(cut, text.count)]
    }
}

/// The lines of a feed: each 1-based line number with the line minus its
/// `\n` or `\r\n`. A UTF-8 byte order mark, which some Windows-edited
/// lists start with, is dropped.
struct FeedLines: Sequence, IteratorProtocol {
    private let text: UTF8Bytes
    private var start: Int
    private(set) var number = 0

    /// `atStart`: `text` begins the document (where a byte order mark may be).
    init(_ text: UTF8Bytes, atStart: Bool = true) {
        self.text = text
        self.start = atStart && text.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    mutating func next() -> (number: Int, line: UTF8Bytes)? {
        guard start < text.count else { return nil }
        var end = start
        while end < text.count, text[end] != FeedText.newline { end += 1 }
        var lineEnd = end
        if lineEnd > start, text[lineEnd - 1] == FeedText.carriageReturn { lineEnd -= 1 }
        defer { start = end + 1 }
        number += 1
        return (number, text.range(start, lineEnd))
    }
}

extension UnsafeBufferPointer<UInt8> {
    // Index loops over the base pointer: the generic Collection algorithms
    // showed up in profiles of million-line feeds.

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    @inline(__always)
    func range(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        guard let base = baseAddress else { return self }
        return UnsafeBufferPointer(start: base + start, count: end - start)
    }

    func trimmingSpaces() -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = count
        while start < end, Self.isSpace(self[start]) { start += 1 }
        while end > start, Self.isSpace(self[end - 1]) { end -= 1 }
        return range(start, end)
    }

    /// The text before the first `marker` and, if there is one, after it:
    /// how trailing comments are cut off.
    func split(at marker: UInt8) -> (before: UnsafeBufferPointer<UInt8>, after: UnsafeBufferPointer<UInt8>?) {
        var index = 0
        while index < count, self[index] != marker { index += 1 }
        return index == count ? (self, nil) : (range(0, index), range(index + 1, count))
    }

    /// For a trimmed entry line: the first token, any further text before
    /// `commentMarker` (trimmed), and the comment after the marker. One pass,
    /// since this runs for every line of every feed.
    func entryParts(commentMarker: UInt8) -> (
        token: UnsafeBufferPointer<UInt8>, extra: UnsafeBufferPointer<UInt8>, comment: UnsafeBufferPointer<UInt8>?
    ) {
        var tokenEnd = 0
        while tokenEnd < count, !Self.isSpace(self[tokenEnd]), self[tokenEnd] != commentMarker { tokenEnd += 1 }
        var extraStart = tokenEnd
        while extraStart < count, Self.isSpace(self[extraStart]) { extraStart += 1 }
        var markerIndex = extraStart
        while markerIndex < count, self[markerIndex] != commentMarker { markerIndex += 1 }
        var extraEnd = markerIndex
        while extraEnd > extraStart, Self.isSpace(self[extraEnd - 1]) { extraEnd -= 1 }
        let comment = markerIndex < count ? range(markerIndex + 1, count) : nil
        return (range(0, tokenEnd), range(extraStart, extraEnd), comment)
    }

    func starts(with text: StaticString) -> Bool {
        text.withUTF8Buffer { starts(with: $0) }
    }

    /// Naive substring search; only used on single lines.
    func contains(_ needle: StaticString) -> Bool {
        needle.withUTF8Buffer { needle in
            guard needle.count <= count else { return false }
            return (0...(count - needle.count)).contains { offset in
                range(offset, count).starts(with: needle)
            }
        }
    }

    /// Copies the bytes into a String; only for errors and metadata.
    var text: String { String(decoding: self, as: UTF8.self) }
}
