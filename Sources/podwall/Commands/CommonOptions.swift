import ArgumentParser
import PodwallAgent
import PodwallCommandLine
import PodwallCore
import PodwallKernel

/// How broad a blocklist entry may be: a /0 would cut every pod off the
/// internet, so entries shorter than the minimums are refused.
struct BreadthOptions: ParsableArguments {
    @Flag(help: "Accept entries broader than the minimum prefix lengths, such as 0.0.0.0/0.")
    var allowBroad = false

    @Option(help: "Shortest IPv4 prefix accepted.")
    var minPrefixV4 = 8

    @Option(help: "Shortest IPv6 prefix accepted.")
    var minPrefixV6 = 32

    func validate() throws {
        if let family = policy.familyWithInvalidMinimum {
            throw ValidationError("--min-prefix-\(family == .v4 ? "v4" : "v6") must be 0-\(family.maxPrefixLength)")
        }
    }

    var policy: FeedPolicy {
        FeedPolicy(minimumIPv4PrefixLength: minPrefixV4, minimumIPv6PrefixLength: minPrefixV6, allowBroad: allowBroad)
    }
}

/// One writer per pin root: while an agent runs on the pins, blocklist and
/// quarantine writes go through its local socket (its picture of the maps
/// would drift if the CLI wrote them behind its back); without one, the CLI
/// writes the pins under their writer lock.
extension PinOptions {
    /// Makes `write` through the agent running on these pins, or runs `direct`
    /// on the pins when none does. `done` is printed after a write the agent made.
    func perform(_ write: AgentAPIClient.Write, done: String, direct: () async throws -> Void) async throws {
        if let agent = await AgentAPIClient.local(pinRoot: pinRoot) {
            if let refusal = try await agent.send(write) { throw ValidationError.failure("\(agent) refused: \(refusal)") }
            print("\(done) (through \(agent))")
            return
        }
        try await writingDirectly(direct)
    }

    /// Runs `body` on the pins under their writer lock; a holder that is not
    /// an answering agent (another command, a hung agent) leaves them untouched.
    func writingDirectly<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await PinWriterLock.holding(pinRoot: pinRoot, body)
        } catch let held as PinWriterLock.Held {
            throw ValidationError.failure("\(held); nothing written")
        }
    }
}
