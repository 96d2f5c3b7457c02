import ArgumentParser
import PodwallCommandLine
import Foundation
import PodwallCore
import PodwallKernel

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Contain a pod: drop its new flows (except to allowlisted destinations).",
        discussion: """
            A quarantined pod keeps the flows it already had and can still reach the allowlist \
            (cluster DNS, the API server); every new flow is dropped on its veth in the kernel. \
            Scan alerts quarantine the scanning pod by default. Pods are named by their host-side \
            interface. While an agent runs on the same pins, add and release go through it (its \
            root-only socket under /run/podwall), so that it knows what was released.

            Examples:
              podwall quarantine list
              podwall quarantine add veth1a2b3c --ttl 30m
              podwall quarantine release veth1a2b3c
            """,
        subcommands: [List.self, Add.self, Release.self]
    )

    static func open(_ pins: PinOptions) throws -> QuarantineTable {
        LibbpfLog.capture(echo: false)
        return try PinnedState(pinRoot: pins.pinRoot).quarantine()
    }

    static func ifindex(_ interface: String) throws -> UInt32 {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw ValidationError("no interface '\(interface)' in this network namespace") }
        return index
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List quarantined pods.")
        @OptionGroup var pins: PinOptions

        func run() async throws {
            try await reportingKernelErrors {
                let names = try LinkWatcher.namesByIndex()
                let now = MonotonicClock.now()
                let rows = try QuarantineCommand.open(pins).entries().sorted { $0.key < $1.key }.map { entry -> [String] in
                    let value = entry.value
                    let left = value.expiresNs.map { $0 > now ? "\(($0 - now) / 1_000_000_000)s" : "expired" } ?? "until released"
                    return [
                        names[entry.key] ?? "if\(entry.key)", "\((now - min(now, value.sinceNs)) / 1_000_000_000)s ago", left,
                        String(value.drops)
                    ]
                }
                print(TextTable.render(header: ["INTERFACE", "SINCE", "EXPIRES", "DROPPED"], rows: rows))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Quarantine a pod by its host-side interface.")
        @Argument(help: ArgumentHelp("The pod's host-side interface.", valueName: "interface"))
        var interface: String
        @Option(help: ArgumentHelp("How long, as 10m or 1h (default: until released).", valueName: "duration"))
        var ttl: String?
        @OptionGroup var pins: PinOptions

        func run() async throws {
            let index = try QuarantineCommand.ifindex(interface)
            let seconds = try ttlSeconds(ttl)
            let done = "quarantined \(interface)\(ttl.map { " for \($0)" } ?? "")"
            try await pins.perform(.quarantine(interface: interface, ttlSeconds: seconds.map { UInt64($0.rounded(.up)) }), done: done) {
                let ttlNs = seconds.map { UInt64($0 * 1e9) }
                try await reportingKernelErrors {
                    try QuarantineCommand.open(pins).quarantine(index, since: MonotonicClock.now(), for: ttlNs)
                    print(done)
                }
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a quarantined pod.")
        @Argument(help: ArgumentHelp("The pod's host-side interface.", valueName: "interface"))
        var interface: String
        @OptionGroup var pins: PinOptions

        func run() async throws {
            let index = try QuarantineCommand.ifindex(interface)
            try await pins.perform(.release(interface: interface), done: "released \(interface)") {
                try await reportingKernelErrors {
                    guard try QuarantineCommand.open(pins).release(index) else {
                        throw ValidationError.failure("\(interface) is not quarantined")
                    }
                    print("released \(interface)")
                }
            }
        }
    }
}
