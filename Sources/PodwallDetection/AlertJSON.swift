import Foundation

/// JSON lines for alerts: one object per line, snake_case keys (from the types' CodingKeys),
/// keys sorted so equal alerts give byte-identical lines. The only Foundation user in the core.
public enum AlertJSON {
    public static func line(_ alert: Alert) throws -> String {
        String(decoding: try encoder().encode(alert), as: UTF8.self)
    }

    /// Newline-terminated lines, ready to append to a log.
    public static func lines(_ alerts: [Alert]) throws -> String {
        let encoder = encoder()
        return try alerts.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    }

    public static func decode(_ line: String) throws -> Alert {
        try JSONDecoder().decode(Alert.self, from: Data(line.utf8))
    }

    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
