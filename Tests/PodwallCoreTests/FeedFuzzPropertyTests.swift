import PodwallTestSupport
import Testing
@testable import PodwallCore

/// Model-based fuzzing of the feed parsers: random documents are built from
/// a valid base plus inserted valid entries (which must be added) and
/// broken lines (which must be reported as `source:line: reason` at exactly
/// their line). Strict parsing rejects the whole document if any line is
/// bad; lenient parsing skips exactly the bad lines. Seeded, so a failure
/// reproduces.
@Suite("Feed fuzzing")
struct FeedFuzzPropertyTests {
    struct Format: Sendable {
        let format: FeedFormat
        let header: [String]
        let line: @Sendable (IPPrefix) -> String
    }

    static let formats = [
        Format(format: .plain, header: ["# plain list", ""], line: { "\($0)" }),
        Format(format: .netset, header: ["#", "# ipv4 hash:net ipset", "#"], line: { "\($0)" }),
        Format(
            format: .spamhausDrop, header: ["; Spamhaus DROP List 2026/11/25", "; Last-Modified: Wed, 25 Nov 2026 00:00:00 GMT"],
            line: { "\($0) ; SBL\(($0.address.low & 0xffff))" })
    ]

    /// Broken lines no parser may accept.
    static let broken = ["300.1.2.3", "192.0.2.0/33", "2001:db8::/129", "not-an-address", "10.0.0.0/8/8", "1.2.3", "::gg", "192.0.2.1/-1"]

    static func entry(_ rng: inout SplitMix64) -> IPPrefix {
        if rng.next() % 4 == 0 {
            let address = IPAddress("2001:db8::")!
            return IPPrefix(
                containing: IPAddress(high: address.high | (rng.next() & 0xffff_ffff), low: rng.next()), length: 48 + Int(rng.next() % 81))
        }
        return IPPrefix(
            containing: IPAddress(ipv4: 0x0B00_0000 + UInt32(truncatingIfNeeded: rng.next() % 0x6000_0000)),
            length: 16 + Int(rng.next() % 17))
    }

    @Test(arguments: 0..<formats.count)
    func strictRejectsExactlyTheBrokenLinesAndLenientSkipsThem(formatIndex: Int) throws {
        let format = Self.formats[formatIndex]
        var rng = SplitMix64(seed: 0xf33d + UInt64(formatIndex))
        for _ in 0..<400 {
            var lines = format.header
            var expected = Set<IPPrefix>()
            var brokenLines: [Int] = []
            for _ in 0..<Int(rng.next() % 40) {
                if rng.next() % 6 == 0 {
                    lines.append(Self.broken[Int(rng.next() % UInt64(Self.broken.count))])
                    brokenLines.append(lines.count)
                } else {
                    let prefix = Self.entry(&rng)
                    expected.insert(prefix)
                    lines.append(format.line(prefix))
                }
            }
            let text = lines.joined(separator: rng.next() % 2 == 0 ? "\n" : "\r\n") + "\n"
            do {
                let content = try FeedParser.parse(text, source: "fuzz", format: format.format)
                guard case .snapshot(let feed) = content else { Issue.record("not a snapshot"); continue }
                #expect(brokenLines.isEmpty, "strict accepted broken lines \(brokenLines):\n\(text)")
                #expect(feed.prefixSet == expected)
            } catch {
                #expect(!brokenLines.isEmpty, "rejected a valid document: \(error)\n\(text)")
                #expect(error.errors.map(\.line) == Array(brokenLines.prefix(FeedRejection.keptErrorLimit)), "\(error)")
                #expect(error.errors.allSatisfy { $0.description.hasPrefix("fuzz:\($0.line): ") && !$0.reason.isEmpty })
            }
            let lenient = try FeedParser.parse(text, source: "fuzz", format: format.format, mode: .lenient)
            guard case .snapshot(let skipped) = lenient else { continue }
            #expect(skipped.prefixSet == expected, "lenient keeps every good line")
            #expect(skipped.errors.map(\.line) == brokenLines, "and names every bad one")
        }
    }

    @Test func arbitraryBytesNeverCrashAParser() {
        var rng = SplitMix64(seed: 0xbad5eed)
        let alphabet = Array("0123456789abcdef.:/;#, \t\r\n\"{}[]SBLx-".utf8)
        for _ in 0..<3000 {
            let length = Int(rng.next() % 300)
            let bytes = (0..<length).map { _ in
                rng.next() % 5 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            for format in FeedFormat.allCases {
                do {
                    _ = try FeedParser.parse(bytes, source: "bytes", format: format)
                } catch {
                    #expect(error.errors.allSatisfy { $0.line >= 1 && $0.description.hasPrefix("bytes:") }, "\(error)")
                }
            }
        }
    }
}
