import ArgumentParser
import Logging
import PodwallAgent
import PodwallCore
import PodwallKernel

struct PinOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Where podwall pins its maps in bpffs.", valueName: "dir"))
    var pinRoot: String = BPFFilesystem.defaultPinRoot
}

struct LoggingOptions: ParsableArguments {
    @Flag(name: .long, help: "Log more, including libbpf's and the verifier's messages.")
    var debug = false

    func bootstrap() -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = debug ? .debug : .info
            return handler
        }
        LibbpfLog.capture(echo: debug)
        return Logger(label: "podwall")
    }
}

/// Prints a kernel error as one sentence and exits non-zero.
func reportingKernelErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as KernelError {
        throw ValidationError.failure(error.description)
    }
}

extension ValidationError {
    /// ArgumentParser prints a ValidationError as `Error: <message>` plus usage;
    /// kernel failures are no usage mistake, so they go out without it.
    static func failure(_ message: String) -> ExitCode {
        FileHandleOutput.standardError("Error: \(message)")
        return ExitCode.failure
    }
}

import Foundation

enum FileHandleOutput {
    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

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

/// Where a running agent's API is: while an agent runs on the same pins,
/// blocklist and quarantine writes go through it (its picture of the maps
/// would drift if the CLI wrote them behind its back).
struct AgentOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The running agent's API; \"\" writes the pins directly.", valueName: "host:port"))
    var api = "127.0.0.1:9464"

    @Option(help: ArgumentHelp("The agent's API token (its api.token_file).", valueName: "file"))
    var apiTokenFile = "/etc/podwall/token"

    func validate() throws {
        if !api.isEmpty && APIAddress(api) == nil { throw ValidationError("--api '\(api)' is not HOST:PORT") }
    }

    /// Makes `write` through the agent running on `pins`, or runs `direct`
    /// on the pins when none does. `done` is printed after a write the agent made.
    func perform(_ write: AgentAPIClient.Write, pins: PinOptions, done: String, direct: () async throws -> Void) async throws {
        switch await agent(on: pins) {
        case .agent(let client):
            if let refusal = try await client.send(write) {
                throw ValidationError.failure("the agent at \(client.address) refused: \(refusal)")
            }
            print("\(done) (through the agent at \(client.address))")
        case .refusesWrites(let reason):
            FileHandleOutput.standardError("warning: \(reason); writing the pinned maps directly: the running agent does not see this change")
            try await direct()
        case .none:
            try await direct()
        }
    }

    /// The agent running on `pins`, if any.
    func agent(on pins: PinOptions) async -> AgentAPIClient.Found {
        guard let address = APIAddress(api) else { return .none }
        return await AgentAPIClient.find(address: address, tokenFile: apiTokenFile, pinRoot: pins.pinRoot)
    }
}
