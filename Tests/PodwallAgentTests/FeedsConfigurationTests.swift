import Foundation
import PodwallAgent
import Testing

@Suite struct FeedsConfigurationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podwall-feeds-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func error(_ yaml: String) throws -> String {
        let path = try write(yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try FeedsConfiguration.load(path)
            return "no error"
        } catch {
            return String(describing: error).replacingOccurrences(of: path, with: "feeds.yaml")
        }
    }

    @Test func theShippedFileParsesWithEveryFeedDisabled() throws {
        let shipped = Self.repository.appendingPathComponent("blocklists/feeds.yaml").path
        #expect(try FeedsConfiguration.load(shipped).feeds.isEmpty)
        let text = try String(contentsOfFile: shipped, encoding: .utf8).replacingOccurrences(of: "enabled: false", with: "enabled: true")
        let enabled = try write(text)
        defer { try? FileManager.default.removeItem(atPath: enabled) }
        let feeds = try FeedsConfiguration.load(enabled).feeds
        #expect(feeds.map(\.name) == ["firehol-level1", "spamhaus-drop-v4", "spamhaus-drop-v6", "feodo-c2", "samples"])
        #expect(feeds.first?.intervalSeconds == 3600)
        #expect(feeds.first?.isURL == true && feeds.last?.isURL == false)
    }

    @Test func mistakesNameTheEntryAndTheKey() throws {
        #expect(
            try error("feeds:\n  - url: https://a.example/x\n    path: /x\n") == "feeds.yaml: feeds[0]: give exactly one of url and path")
        #expect(try error("feeds:\n  - path: /x\n    format: csvx\n") == "feeds.yaml: feeds[0].format: unknown format 'csvx'")
        #expect(try error("feeds:\n  - path: /x\n  - url: ftp://a/x\n") == "feeds.yaml: feeds[1].url: 'ftp://a/x' is not an http(s) URL")
        #expect(
            try error("feeds:\n  - url: https://a/x\n    interval: soon\n")
                == "feeds.yaml: feeds[0].interval: 'soon' is not a duration of at least 1s, such as 30m or 12h")
        #expect(try error("feeds:\n  - path: /a/x.txt\n  - path: /b/x.txt\n") == "feeds.yaml: feeds[1].name: 'x' is used twice")
        #expect(try error("feeds: [").hasPrefix("feeds.yaml: not a feeds file"))
    }
}
