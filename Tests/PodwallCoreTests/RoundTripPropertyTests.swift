import PodwallTestSupport
import Testing
@testable import PodwallCore

/// Random prefixes survive render -> parse, in canonical and in sloppy but
/// valid spellings. Seeded, so a failure reproduces.
@Suite("Round trip property")
struct RoundTripPropertyTests {
    static let iterations = 20_000

    /// Addresses with many zero groups, so `::` placement gets exercised.
    static func randomAddress(_ rng: inout SplitMix64) -> IPAddress {
        if rng.next() % 2 == 0 {
            return IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next()))
        }
        let zeroMask = rng.next()
        var words: [UInt64] = [0, 0]
        for group in 0..<8 {
            let value = zeroMask >> UInt64(group) & 1 == 0 ? 0 : rng.next() & 0xffff
            words[group / 4] |= value << UInt64(48 - 16 * (group % 4))
        }
        return IPAddress(high: words[0], low: words[1])
    }

    static func randomPrefix(_ rng: inout SplitMix64) -> IPPrefix {
        let address = randomAddress(&rng)
        let length = Int(rng.next() % UInt64(address.family.maxPrefixLength + 1))
        return IPPrefix(containing: address, length: length)
    }

    /// Uncompressed, leading zeros, random case: valid but not canonical.
    static func sloppyText(_ prefix: IPPrefix, _ rng: inout SplitMix64) -> String {
        guard prefix.family == .v6 else { return "\(prefix.address)/\(prefix.length)" }
        let groups = (0..<8).map { index -> String in
            let word = index < 4 ? prefix.address.high : prefix.address.low
            let hex = String(word >> UInt64(48 - 16 * (index % 4)) & 0xffff, radix: 16)
            let padded = String(repeating: "0", count: 4 - hex.count) + hex
            return rng.next() % 2 == 0 ? padded.uppercased() : padded
        }
        return groups.joined(separator: ":") + "/\(prefix.length)"
    }

    @Test func canonicalTextRoundTrips() {
        var rng = SplitMix64(seed: 0x5EED_F00D)
        for _ in 0..<Self.iterations {
            let original = Self.randomPrefix(&rng)
            let text = original.description
            guard let parsed = IPPrefix(text) else {
                Issue.record("'\(text)' does not parse")
                return
            }
            #expect(parsed == original, "'\(text)'")
            #expect(parsed.description == text)
        }
    }

    @Test func sloppyTextParsesToTheSameValue() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<Self.iterations {
            let original = Self.randomPrefix(&rng)
            let text = Self.sloppyText(original, &rng)
            let parsed = IPPrefix(text)
            #expect(parsed == original, "'\(text)'")
            // Custom hashing must agree with equality.
            #expect(parsed?.hashValue == original.hashValue)
            #expect(Set([original, parsed ?? original]).count == 1)
        }
    }

    @Test func addressBytesRoundTrip() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<Self.iterations {
            let address = Self.randomAddress(&rng)
            #expect(IPAddress(bytes: address.bytes) == address)
            #expect(IPAddress(address.description) == address)
        }
    }

    @Test func generatorIsDeterministic() {
        var first = SplitMix64(seed: 1)
        var second = SplitMix64(seed: 1)
        #expect((0..<4).map { _ in first.next() } == (0..<4).map { _ in second.next() })
    }
}
