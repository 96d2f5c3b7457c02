// Blocklist benchmark: load 1,000,000 mixed IPv4/IPv6 entries from a feed
// file into the kernel (parse + apply, end to end), against `ipset restore`
// and `nft -f` loading the same set in the same run; reload with 1 %
// changed; BPF_PROG_TEST_RUN cost with 0 vs 1M entries; time from a block
// returning to the first dropped packet.
// Run as root: swift build -c release --product podwall-blocklist-bench && .build/release/podwall-blocklist-bench
import Foundation
import PodwallAgent
import PodwallCore
import PodwallKernel
import PodwallLab

let entries = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = Date()
    try body()
    return Date().timeIntervalSince(start)
}

/// The feed: 60 % IPv4 addresses, 20 % IPv6 addresses, 15 % IPv4 prefixes
/// (/16-/28), 5 % IPv6 prefixes (/40-/64), all distinct, in documentation-
/// and benchmark-style space that nothing here ever sends to.
func generateFeed(count: Int) -> [IPPrefix] {
    var generator = SystemRandomNumberGenerator()
    var set = Set<IPPrefix>()
    set.reserveCapacity(count)
    while set.count < count {
        let roll = Int.random(in: 0..<100, using: &generator)
        let v4 = UInt32.random(in: 0x0B00_0000...0xDF00_0000, using: &generator)  // 11.0.0.0-223.0.0.0
        let v6 = IPAddress(
            high: 0x2001_0db8_0000_0000 | UInt64.random(in: 0...0xffff_ffff, using: &generator),
            low: UInt64.random(in: 0...UInt64.max, using: &generator))
        switch roll {
        case 0..<60: set.insert(IPPrefix(host: IPAddress(ipv4: v4)))
        case 60..<80: set.insert(IPPrefix(host: v6))
        case 80..<95: set.insert(IPPrefix(containing: IPAddress(ipv4: v4), length: Int.random(in: 16...28, using: &generator)))
        default: set.insert(IPPrefix(containing: v6, length: Int.random(in: 40...64, using: &generator)))
        }
    }
    return Array(set)
}

LibbpfLog.capture(echo: false)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("podwall-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

let feed = generateFeed(count: entries)
let feedPath = directory + "/bench.netset"
try (feed.map(\.description).joined(separator: "\n") + "\n").write(toFile: feedPath, atomically: true, encoding: .utf8)

// ipset and nft get the same set, in a namespace of their own so the host's firewall is untouched.
let namespace = "pwbench-\(getpid())"
try Shell.run(["ip", "netns", "add", namespace])
defer { _ = try? Shell.run(["ip", "netns", "delete", namespace], check: false) }
let v4 = feed.filter { $0.family == .v4 }, v6 = feed.filter { $0.family == .v6 }
let ipsetScript =
    "create pwv4 hash:net family inet maxelem \(entries * 2)\ncreate pwv6 hash:net family inet6 maxelem \(entries * 2)\n"
    + v4.map { "add pwv4 \($0)" }.joined(separator: "\n") + "\n" + v6.map { "add pwv6 \($0)" }.joined(separator: "\n") + "\n"
try ipsetScript.write(toFile: directory + "/ipset.txt", atomically: true, encoding: .utf8)
let nftScript =
    "table inet pwbench {\n set v4 { type ipv4_addr; flags interval; auto-merge; elements = { "
    + v4.map(\.description).joined(separator: ", ")
    + " } }\n set v6 { type ipv6_addr; flags interval; auto-merge; elements = { " + v6.map(\.description).joined(separator: ", ")
    + " } }\n}\n"
try nftScript.write(toFile: directory + "/nft.txt", atomically: true, encoding: .utf8)

// podwall: private maps sized for the feed, loaded through the same code as `podwall blocklist load`.
let datapath = try Datapath(options: .init(pinRoot: nil))
let testPacket: [UInt8] =
    [
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 48, 0, 1, 0x40, 0, 64, 17, 0, 0,
        198, 18, 0, 11, 198, 18, 0, 12, 0x04, 0x57, 0, 53, 0, 28, 0, 0
    ] + [UInt8](repeating: 0, count: 20)
_ = try ProgramTestRun.run(datapath.fromPod, packet: testPacket)
let emptyCost = try ProgramTestRun.run(datapath.fromPod, packet: testPacket, repeat: 1_000_000).durationNanoseconds

var report: [FeedLoadReport] = []
let podwallLoad = try seconds {
    report = try FeedLoader.loadFileNow(FeedSource(name: "bench", path: feedPath), into: datapath.blocklist)
}
let fullCost = try ProgramTestRun.run(datapath.fromPod, packet: testPacket, repeat: 1_000_000).durationNanoseconds

// Reload with 1 % changed: 1 % of the entries replaced by new ones.
var changed = Set(feed)
let replacements = generateFeed(count: entries / 100 * 2).filter { !changed.contains($0) }.prefix(entries / 100)
for (old, new) in zip(feed.prefix(entries / 100), replacements) {
    changed.remove(old)
    changed.insert(new)
}
// Twice: the feed as the agent holds it once parsed (diff + kernel writes),
// and end to end from the changed file (read, parse, sort, diff, write).
let changedSorted = SortedPrefixes(changed)
var reloadChange = Blocklist.Change()
let reload = try seconds { reloadChange = try datapath.blocklist.replaceFeed("bench", with: changedSorted) }
try datapath.blocklist.replaceFeed("bench", with: SortedPrefixes(feed))
let changedPath = directory + "/bench-changed.netset"
try (changed.map(\.description).joined(separator: "\n") + "\n").write(toFile: changedPath, atomically: true, encoding: .utf8)
var fileReload: [FeedLoadReport] = []
let reloadFromFile = try seconds {
    fileReload = try FeedLoader.loadFileNow(FeedSource(name: "bench", path: changedPath), into: datapath.blocklist)
}

let ipset = try seconds { try Shell.run(["ip", "netns", "exec", namespace, "sh", "-c", "ipset restore < \(directory)/ipset.txt"]) }
_ = try? Shell.run(["ip", "netns", "exec", namespace, "sh", "-c", "ipset destroy pwv4; ipset destroy pwv6"], check: false)
let nft = try seconds { try Shell.run(["ip", "netns", "exec", namespace, "nft", "-f", directory + "/nft.txt"]) }

print(
    """
    | \(entries) entries (\(v4.count) IPv4, \(v6.count) IPv6; \(feed.filter { $0.isSingleAddress }.count) single addresses) | seconds | vs podwall |
    |---|---|---|
    | podwall: parse + validate + apply (\(report.first.map { FeedLoadReport.ms($0.parseSeconds) } ?? "?") parse, \(report.first.map { FeedLoadReport.ms($0.applySeconds) } ?? "?") apply) | \(String(format: "%.2f", podwallLoad)) | 1.00 |
    | `ipset restore` (hash:net, v4 + v6) | \(String(format: "%.2f", ipset)) | \(String(format: "%.1f×", ipset / podwallLoad)) slower |
    | `nft -f` (interval sets, v4 + v6) | \(String(format: "%.2f", nft)) | \(String(format: "%.1f×", nft / podwallLoad)) slower |
    | podwall reload with 1 % changed (\(reloadChange)): diff + kernel writes | \(String(format: "%.3f", reload)) | |
    | the same reload from the changed file (\(fileReload.first.map { FeedLoadReport.ms($0.parseSeconds) } ?? "?") parse + sort, \(fileReload.first.map { FeedLoadReport.ms($0.applySeconds) } ?? "?") diff + writes) | \(String(format: "%.3f", reloadFromFile)) | |

    | BPF_PROG_TEST_RUN, pw_from_pod, one UDP packet to an unlisted address | ns/packet |
    |---|---|
    | empty blocklist | \(emptyCost) |
    | \(entries)-entry blocklist | \(fullCost) |
    """)
