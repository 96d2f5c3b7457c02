/// The kernel map changes that turn one set of prefixes into another.
///
/// Apply order: **all additions first, then deletions.** A deletion only
/// ever removes a prefix absent from the new set, and an addition never
/// removes coverage, so at every moment of the update each address that is
/// listed before and after stays listed (e.g. a /32 being replaced by its
/// /24 is never briefly unblocked).
public struct BlocklistDiff: Hashable, Sendable {
    /// Prefixes to insert, sorted.
    public var additions: [IPPrefix]
    /// Prefixes to remove, sorted; apply after all additions.
    public var deletions: [IPPrefix]

    public init(additions: [IPPrefix] = [], deletions: [IPPrefix] = []) {
        self.additions = additions
        self.deletions = deletions
    }

    public var isEmpty: Bool { additions.isEmpty && deletions.isEmpty }

    /// The changes from `old` (what the kernel holds) to `new` (what is desired).
    public static func diff(from old: Set<IPPrefix>, to new: Set<IPPrefix>) -> BlocklistDiff {
        BlocklistDiff(additions: new.subtracting(old).sorted(), deletions: old.subtracting(new).sorted())
    }

    func sortedCopy() -> BlocklistDiff {
        BlocklistDiff(additions: additions.sorted(), deletions: deletions.sorted())
    }
}

/// Prefixes sorted by the kernel map that holds them: single addresses go
/// to hash maps (one exact lookup), real prefixes to the LPM trie.
public struct PrefixSplit: Hashable, Sendable {
    /// /32 and /128 entries.
    public var singleAddresses: [IPPrefix] = []
    /// Everything shorter.
    public var networks: [IPPrefix] = []

    public init(_ prefixes: some Sequence<IPPrefix>) {
        for prefix in prefixes {
            if prefix.isSingleAddress {
                singleAddresses.append(prefix)
            } else {
                networks.append(prefix)
            }
        }
    }
}
