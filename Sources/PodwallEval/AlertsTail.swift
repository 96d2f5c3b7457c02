import Foundation

/// Reads the agent's alerts file as it grows, from where it left off: a long
/// run's file is read once, not again every 100 ms while latencies are measured.
final class AlertsTail {
    let path: String
    private var offset: UInt64 = 0
    private var partial = Data()
    /// Every alert line read so far, in file order.
    private(set) var lines: [AlertLine] = []

    init(path: String) {
        self.path = path
    }

    /// Reads what was appended since the last call; returns the lines' count.
    @discardableResult
    func refresh() -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return lines.count }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let data = handle.readDataToEndOfFile()
        offset += UInt64(data.count)
        partial.append(data)
        // Only complete lines: the agent may be writing the last one.
        guard let end = partial.lastIndex(of: UInt8(ascii: "\n")) else { return lines.count }
        for text in partial[partial.startIndex..<end].split(separator: UInt8(ascii: "\n")) {
            if let json = try? JSONSerialization.jsonObject(with: Data(text)) as? [String: Any], let line = AlertLine(json: json) {
                lines.append(line)
            }
        }
        partial = Data(partial[(end + 1)...])
        return lines.count
    }
}
