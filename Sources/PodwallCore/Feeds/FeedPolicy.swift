/// What to do with a feed that has bad lines.
public enum FeedMode: Sendable, Hashable {
    /// Any bad line rejects the whole feed (the default: a feed that is
    /// partly garbage may be truncated or hijacked).
    case strict
    /// Bad lines are skipped and counted; the rest is used.
    case lenient
}

/// Limits that protect the node from a broken or hostile feed.
public struct FeedPolicy: Sendable, Hashable {
    /// Shortest IPv4 prefix accepted; a /0 or /1 in a blocklist would cut
    /// the node off the internet.
    public var minimumIPv4PrefixLength: Int
    /// Shortest IPv6 prefix accepted (/32 is a typical RIR allocation).
    public var minimumIPv6PrefixLength: Int
    /// Accept prefixes shorter than the minimums.
    public var allowBroad: Bool
    /// Most unique entries one feed may hold; bounds kernel map memory.
    public var maxEntries: Int

    public init(
        minimumIPv4PrefixLength: Int = 8,
        minimumIPv6PrefixLength: Int = 32,
        allowBroad: Bool = false,
        maxEntries: Int = 5_000_000
    ) {
        self.minimumIPv4PrefixLength = minimumIPv4PrefixLength
        self.minimumIPv6PrefixLength = minimumIPv6PrefixLength
        self.allowBroad = allowBroad
        self.maxEntries = maxEntries
    }

    public func minimumPrefixLength(for family: IPFamily) -> Int {
        family == .v4 ? minimumIPv4PrefixLength : minimumIPv6PrefixLength
    }

    /// The family whose minimum lies outside 0 and its longest prefix, if any.
    public var familyWithInvalidMinimum: IPFamily? {
        [IPFamily.v4, .v6].first { !(0...$0.maxPrefixLength).contains(minimumPrefixLength(for: $0)) }
    }

    /// Why `prefix` is refused, or nil when it is acceptable. `token` is
    /// the text as the feed wrote it, built only when needed.
    public func refusal(of prefix: IPPrefix, token: @autoclosure () -> String) -> String? {
        guard !allowBroad else { return nil }
        let minimum = minimumPrefixLength(for: prefix.family)
        if prefix.length < minimum {
            return "'\(token())' is broader than the minimum prefix /\(minimum) (feeds.allow_broad or --allow-broad to accept)"
        }
        // Kernel keys hold IPv4 as ::ffff:a.b.c.d, so an IPv6 prefix such as
        // ::/32 would also match every IPv4 address.
        if prefix.family == .v6, prefix.contains(IPAddress(ipv4: 0)) {
            return "'\(token())' covers all IPv4 addresses (::ffff:0:0/96) (feeds.allow_broad or --allow-broad to accept)"
        }
        return nil
    }
}
