import ArgumentParser
import PodwallCommandLine
import Foundation
import PodwallAgent
import PodwallCore
import PodwallKernel

struct BlocklistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blocklist",
        abstract: "Load feeds into the kernel's blocklist and inspect it.",
        discussion: """
            Works on the pinned maps, whether or not the agent runs; while an agent runs on the \
            same pins, load, add and del go through it (its root-only socket under /run/podwall). Traffic to or from a listed \
            address is dropped on every pod veth, and connect()/sendmsg() to it fail with EPERM \
            in the pods' cgroup, within milliseconds of the command returning. Single addresses \
            live in a hash map, prefixes in an LPM trie; IPv4 entries also match IPv4-mapped \
            IPv6. Reloads change only what differs, additions before removals, so a listed \
            address is never let through during a reload.
            """,
        subcommands: [Load.self, Add.self, Del.self, List.self, Check.self, Stats.self]
    )

    static func open(_ pins: PinOptions) throws -> Blocklist {
        LibbpfLog.capture(echo: false)
        return try PinnedState(pinRoot: pins.pinRoot).blocklist()
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a feed file, a directory of feed files, or a URL as a named feed.",
            discussion: """
                Formats: plain, netset (FireHOL), spamhaus-drop, spamhaus-drop-json, feodo, \
                feodo-csv, crowdsec; detected from the content unless --format is given. A feed \
                with any bad line is rejected whole and the previous version stays enforced; \
                every bad line is reported as file:line: reason. Loading a feed again replaces \
                its previous version; entries listed by other feeds stay. While an agent runs on \
                the same pins, the feed goes through its API (PUT /v1/feeds/NAME) and its limits \
                (feeds.min_prefix_v4/_v6) apply.

                Examples:
                  podwall blocklist load /etc/podwall/feeds/firehol_level1.netset
                  podwall blocklist load drop.txt --name spamhaus-drop --format spamhaus-drop
                  podwall blocklist load feeds/ --lenient
                  podwall blocklist load https://www.spamhaus.org/drop/drop_v4.json --name spamhaus-drop
                """
        )

        @Argument(help: ArgumentHelp("A feed file, a directory whose files are feeds, or an http(s) URL.", valueName: "path|url"))
        var path: String

        @Option(help: "Feed name (default: the file name without extension).")
        var name: String?

        @Option(help: "Feed format (default: detected).")
        var format: String?

        @Flag(help: "Skip bad lines (and report how many) instead of rejecting the feed.")
        var lenient = false

        @OptionGroup var breadth: BreadthOptions

        @OptionGroup var pins: PinOptions

        func run() async throws {
            let feedFormat: FeedFormat?
            if let format {
                guard let parsed = FeedFormat(name: format) else {
                    throw ValidationError(
                        "unknown format '\(format)'; one of: plain, netset, spamhaus-drop, spamhaus-drop-json, feodo, feodo-csv, crowdsec")
                }
                feedFormat = parsed
            } else {
                feedFormat = nil
            }
            let source = FeedSource(name: name ?? FeedSource.defaultName(for: path), path: path, format: feedFormat)
            try await reportingKernelErrors {
                do {
                    if let agent = await AgentAPIClient.local(pinRoot: pins.pinRoot) {
                        // The agent parses and applies each document under its own limits.
                        for document in try await FeedLoader.documents(of: source) {
                            switch try await agent.loadFeed(document, lenient: lenient) {
                            case .success(let report): print(report)
                            case .failure(let refusal): throw ValidationError.failure("\(agent) refused: \(refusal)")
                            }
                        }
                        return
                    }
                    try await pins.writingDirectly {
                        for report in try await FeedLoader.load(
                            source, into: try BlocklistCommand.open(pins), policy: breadth.policy,
                            mode: lenient ? .lenient : .strict)
                        {
                            print(report)
                        }
                    }
                } catch let error as FeedLoadError {
                    throw ValidationError.failure(error.description)
                } catch let error as FeedDownloader.Failure {
                    throw ValidationError.failure(error.description)
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an address or prefix by hand, optionally for a limited time.",
            discussion: """
                Prefixes broader than /8 (IPv4) or /32 (IPv6), or covering all of IPv4, are refused \
                unless --allow-broad is given: a typo such as 0.0.0.0/0 would cut every pod off. These \
                limits are the command's own, for the pins without an agent; through a running agent, \
                its config decides (feeds.min_prefix_v4/_v6, feeds.allow_broad).

                Example: podwall blocklist add 203.0.113.7 --ttl 1h --reason 'C2 seen in alert ps-1f2e'
                """
        )

        @Argument(help: ArgumentHelp("Address or CIDR.", valueName: "cidr"))
        var cidr: String

        @Option(help: ArgumentHelp("How long, as 90s, 10m, 1h30m (default: until deleted).", valueName: "duration"))
        var ttl: String?

        @Option(help: "Why (printed and logged).")
        var reason: String?

        @OptionGroup var breadth: BreadthOptions

        @OptionGroup var pins: PinOptions

        func run() async throws {
            let prefix = try parsePrefix(cidr)
            if let refusal = breadth.policy.refusal(of: prefix, token: cidr) {
                throw ValidationError.failure(refusal)
            }
            let seconds = try ttlSeconds(ttl)
            let done = "blocked \(prefix)\(ttl.map { " for \($0)" } ?? "")\(reason.map { ": \($0)" } ?? "")"
            try await pins.perform(.block(prefix: prefix.description, ttlSeconds: seconds.map { UInt64($0.rounded(.up)) }), done: done) {
                let expires = try expiry(ttl, from: MonotonicClock.now())
                try await reportingKernelErrors {
                    try BlocklistCommand.open(pins).addDynamic(prefix, expiresNs: expires)
                    print(done)
                }
            }
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an entry added by hand (feed entries go with their feed).")

        @Argument(help: ArgumentHelp("Address or CIDR.", valueName: "cidr"))
        var cidr: String

        @OptionGroup var pins: PinOptions

        func run() async throws {
            let prefix = try parsePrefix(cidr)
            try await pins.perform(.unblock(prefix: prefix.description), done: "removed the manual entry for \(prefix)") {
                try await reportingKernelErrors {
                    guard let feeds = try BlocklistCommand.open(pins).removeDynamic(prefix) else {
                        throw ValidationError.failure("\(prefix) is not in the blocklist")
                    }
                    print(
                        feeds.isEmpty
                            ? "unblocked \(prefix)"
                            : "removed the manual entry; \(prefix) stays blocked by feed \(feeds.joined(separator: ", "))")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every entry with its feeds, expiry and hits.")

        @Flag(help: "One JSON object per line.")
        var json = false

        @OptionGroup var pins: PinOptions

        func run() async throws {
            try await reportingKernelErrors {
                let blocklist = try BlocklistCommand.open(pins)
                let now = MonotonicClock.now()
                let rows = blocklist.entries().sorted { $0.key < $1.key }.map { prefix, entry in
                    (prefix, entry, blocklist.feedNames(entry.feeds), entry.expiresNs == 0 ? nil : Int64(entry.expiresNs) - Int64(now))
                }
                if json {
                    for (prefix, entry, feeds, left) in rows {
                        var line = JSONLine()
                        line.field("prefix", prefix.description)
                        line.field("feeds", feeds.joined(separator: ","))
                        line.field("hits", entry.hits)
                        if let left { line.field("expires_in_s", Double(left) / 1e9) }
                        print(line.rendered)
                    }
                } else {
                    print(
                        TextTable.render(
                            header: ["PREFIX", "FEEDS", "HITS", "EXPIRES IN"],
                            rows: rows.map { prefix, entry, feeds, left in
                                [
                                    prefix.description, feeds.joined(separator: ","), String(entry.hits),
                                    left.map { "\($0 / 1_000_000_000)s" } ?? "-"
                                ]
                            }))
                    print("\(rows.count) entries")
                }
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show which entry and feeds match an address, if any.")

        @Argument(help: ArgumentHelp("An IPv4 or IPv6 address.", valueName: "ip"))
        var ip: String

        @OptionGroup var pins: PinOptions

        func run() async throws {
            guard let address = IPAddress(ip) else { throw ValidationError("'\(ip)' is not an IP address") }
            try await reportingKernelErrors {
                let blocklist = try BlocklistCommand.open(pins)
                guard let (prefix, entry) = try blocklist.match(address) else {
                    print("\(address) is not blocked")
                    return
                }
                print(
                    "\(address) is blocked by \(prefix) (feeds: \(blocklist.feedNames(entry.feeds).joined(separator: ", ")); hits: \(entry.hits))"
                )
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Entries per feed, hits, and the most hit entries.")

        @OptionGroup var pins: PinOptions

        func run() async throws {
            try await reportingKernelErrors {
                let blocklist = try BlocklistCommand.open(pins)
                let entries = blocklist.entries()
                let feeds = blocklist.feeds()
                print(
                    TextTable.render(
                        header: ["FEED", "ENTRIES", "HITS", "UPDATED"],
                        rows: feeds.map { feed in
                            let bit: UInt64 = 1 << UInt64(feed.slot)
                            let listed = entries.filter { $0.value.feeds & bit != 0 }
                            return [
                                feed.name, String(listed.count), String(listed.values.reduce(0) { $0 + $1.hits }),
                                Timestamp.rfc3339(nanoseconds: Int64(feed.feed.updated_ns))
                            ]
                        }))
                let dynamic = entries.filter(\.value.isDynamic)
                print("\nmanual/detection entries: \(dynamic.count); total entries: \(entries.count)")
                let top = entries.filter { $0.value.hits > 0 }.sorted { $0.value.hits > $1.value.hits }.prefix(10)
                if !top.isEmpty {
                    print(
                        "\n"
                            + TextTable.render(
                                header: ["TOP ENTRY", "HITS", "FEEDS"],
                                rows: top.map {
                                    [$0.key.description, String($0.value.hits), blocklist.feedNames($0.value.feeds).joined(separator: ",")]
                                }))
                }
            }
        }
    }
}

/// Seconds of a `--ttl` such as 90s, 10m or 1h30m (nil: until removed).
func ttlSeconds(_ ttl: String?) throws -> Double? {
    guard let ttl else { return nil }
    guard let seconds = GoDuration.seconds(ttl), seconds > 0 else {
        throw ValidationError("'\(ttl)' is not a duration such as 90s, 10m or 1h30m")
    }
    return seconds
}

/// Kernel monotonic expiry for a `--ttl` (0 = never).
func expiry(_ ttl: String?, from now: UInt64) throws -> UInt64 {
    try ttlSeconds(ttl).map { now + UInt64($0 * 1e9) } ?? 0
}

func parsePrefix(_ text: String) throws -> IPPrefix {
    switch IPPrefix.parse(text) {
    case .success(let prefix): return prefix
    case .failure(let error): throw ValidationError(error.explanation(for: text))
    }
}
