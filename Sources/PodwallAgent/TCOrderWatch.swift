import PodwallKernel

/// Notices another TCX program attached in front of podwall's on a pod
/// interface. A program there that passes or redirects a packet ends the
/// hook's chain, and podwall never sees that packet: no flow, no block.
/// podwall does not fight for the first place (the other program may be a
/// CNI's); the agent warns once per hook, and says when it is first again.
struct TCOrderWatch {
    struct Hook: Hashable, Sendable {
        let ifindex: UInt32
        let hook: TCHook
    }

    /// Hooks on which another program runs before podwall's, as of the last check.
    private(set) var behind: Set<Hook> = []

    /// Records the hooks podwall is behind on now; returns the ones it fell
    /// behind on and the ones it is first on again since the last check.
    mutating func update(behind now: Set<Hook>) -> (fellBehind: Set<Hook>, firstAgain: Set<Hook>) {
        defer { behind = now }
        return (now.subtracting(behind), behind.subtracting(now))
    }
}
