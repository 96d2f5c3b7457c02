import PodwallTestSupport
import Testing
@testable import PodwallCore

/// Sorted prefix lists against `Set` as the reference, on seeded random
/// sets small and large enough to take the two-thread sort.
@Suite("Sorted prefixes")
struct SortedPrefixesTests {
    static func randomSet(_ rng: inout SplitMix64, count: Int) -> Set<IPPrefix> {
        var set = Set<IPPrefix>()
        // A range about twice the count, so two random sets overlap.
        let span = UInt64(max(4096, 2 * count))
        while set.count < count {
            let v4 = IPAddress(ipv4: 0xC000_0000 + UInt32(truncatingIfNeeded: rng.next() % span))
            let v6 = IPAddress(high: 0x2001_0db8_0000_0000, low: rng.next() % span)
            switch rng.next() % 4 {
            case 0: set.insert(IPPrefix(host: v6))
            case 1: set.insert(IPPrefix(containing: v4, length: 20 + Int(rng.next() % 13)))
            default: set.insert(IPPrefix(host: v4))
            }
        }
        return set
    }

    @Test(arguments: [0, 1, 17, 3000, 100_000])
    func setOperationsMatchSet(count: Int) {
        var rng = SplitMix64(seed: 0x5077 + UInt64(count))
        let old = Self.randomSet(&rng, count: count), new = Self.randomSet(&rng, count: count)
        // Repeats in the input are dropped.
        let sortedOld = SortedPrefixes(Array(old) + Array(old.prefix(count / 3)))
        let sortedNew = SortedPrefixes(new)
        #expect(sortedOld.count == old.count && Set(sortedOld) == old)
        #expect(zip(sortedOld, sortedOld.dropFirst()).allSatisfy { SortedPrefixes.precedes($0, $1) })

        let (added, removed) = sortedNew.difference(from: sortedOld)
        #expect(Set(added) == new.subtracting(old) && added.count == Set(added).count)
        #expect(Set(removed) == old.subtracting(new) && removed.count == Set(removed).count)
        #expect(Set(sortedOld.union(sortedNew)) == old.union(new))
        #expect(Set(sortedNew.subtracting(sortedOld)) == new.subtracting(old))
        #expect(sortedOld.membership(of: sortedNew.elements) == sortedNew.map { old.contains($0) })
        for probe in new.prefix(500) {
            #expect(sortedOld.contains(probe) == old.contains(probe))
        }
    }

    /// A feed over a megabyte is parsed as two halves on two threads: the
    /// entries, counts and every `source:line` must be those of one pass.
    @Test func aLargeFeedParsedInHalvesKeepsItsLineNumbers() throws {
        var rng = SplitMix64(seed: 0xfeed)
        var lines: [String] = ["# a large list"]
        var expected: [IPPrefix] = []
        var badLines: [Int] = []
        for _ in 0..<90_000 {
            switch rng.next() % 1000 {
            case 0:
                lines.append("300.1.2.3")
                badLines.append(lines.count)
            case 1: lines.append("")
            default:
                let entry = IPPrefix(host: IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next() % 0x7000_0000) + 0x0B00_0000))
                lines.append(entry.description)
                expected.append(entry)
            }
        }
        let text = lines.joined(separator: "\n") + "\n"
        #expect(text.utf8.count > 1 << 20, "the text must be large enough to be split")

        let lenient = try PlainListParser.parse(text, source: "big.txt", policy: FeedPolicy(), mode: .lenient)
        var seen = Set<IPPrefix>()
        #expect(lenient.prefixes == expected.filter { seen.insert($0).inserted })
        #expect(lenient.duplicateCount == expected.count - seen.count)
        #expect(lenient.lineCount == lines.count)
        #expect(lenient.errors.map(\.line) == Array(badLines.prefix(FeedRejection.keptErrorLimit)))

        let strict = try #require(
            rejection { () throws(FeedRejection) in
                try PlainListParser.parse(text, source: "big.txt", policy: FeedPolicy(), mode: .strict)
            })
        #expect(strict.errorCount == badLines.count)
        #expect(strict.errors.first?.description == "big.txt:\(badLines[0]): '300.1.2.3' is not an IPv4 address")
        #expect(!badLines.isEmpty && badLines.last! > lines.count / 2, "bad lines in both halves")
    }
}
