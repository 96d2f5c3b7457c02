import Foundation
import Logging

/// Where the running configuration came from, so it can be read again.
public struct ConfigSource: Sendable {
    public var file: String?
    public var overrides: [ConfigOverride]

    public init(file: String?, overrides: [ConfigOverride]) {
        self.file = file
        self.overrides = overrides
    }
}

/// Reloads the configuration on SIGHUP or when the file changes. A file that
/// fails validation is refused, logged, and the running configuration stays.
final class ConfigReloader: Sendable {
    let source: ConfigSource
    let logger: Logger
    let pollSeconds: Double

    init(source: ConfigSource, logger: Logger, pollSeconds: Double = 2) {
        self.source = source
        self.logger = logger
        self.pollSeconds = pollSeconds
    }

    /// Calls `apply` with every valid new configuration until cancelled.
    func run(apply: @escaping @Sendable (AgentConfiguration) -> Void) async throws {
        let hangups = AsyncStream<Void> { continuation in
            signal(SIGHUP, SIG_IGN)
            // Dispatch sources are thread-safe; the type just is not marked Sendable.
            nonisolated(unsafe) let source = DispatchSource.makeSignalSource(signal: SIGHUP)
            source.setEventHandler { continuation.yield() }
            source.resume()
            continuation.onTermination = { _ in source.cancel() }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups { self.reload("SIGHUP", apply: apply) }
            }
            group.addTask {
                var lastChange = self.modificationDate()
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(self.pollSeconds))
                    let changed = self.modificationDate()
                    if changed != lastChange {
                        lastChange = changed
                        self.reload("file changed", apply: apply)
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    func reload(_ trigger: String, apply: (AgentConfiguration) -> Void) {
        do {
            let configuration = try ConfigLoader.load(file: source.file, overrides: source.overrides)
            logger.info("configuration reloaded (\(trigger))", metadata: ["file": "\(source.file ?? "-")"])
            apply(configuration)
        } catch {
            logger.error("configuration reload refused (\(trigger)), the running configuration stays: \(error)")
        }
    }

    private func modificationDate() -> Date? {
        source.file.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
    }
}

extension AgentConfiguration {
    /// Keys whose change only takes effect after a restart.
    func keysNeedingRestart(comparedTo other: AgentConfiguration) -> [String] {
        var keys: [String] = []
        if interfaces != other.interfaces { keys.append("interfaces") }
        if pinRoot != other.pinRoot { keys.append("pin_root") }
        if flowEntries != other.flowEntries { keys.append("flow_entries") }
        if attachMode != other.attachMode { keys.append("tc_attach") }
        if cgroupPath != other.cgroupPath { keys.append("cgroup") }
        if feeds.map(\.path) != other.feeds.map(\.path) || feedMode != other.feedMode || feedPolicy != other.feedPolicy
            || feedURLPollSeconds != other.feedURLPollSeconds
        {
            keys.append("feeds")
        }
        var detectors = detection, otherDetectors = other.detection
        detectors.policy = otherDetectors.policy
        detectors.updateIntervalNs = otherDetectors.updateIntervalNs
        // Applied at once (the kernel's names, paths and kill switches with them).
        detectors.processRules = otherDetectors.processRules
        detectors.processBaseline = otherDetectors.processBaseline
        detectors.fileRules = otherDetectors.fileRules
        if detectors != otherDetectors { keys.append("detection, cluster_cidrs") }
        if processesEnabled != other.processesEnabled || filesEnabled != other.filesEnabled {
            keys.append("processes.enabled, files.enabled")
        }
        if detection.updateIntervalNs != other.detection.updateIntervalNs { keys.append("alerts.update_interval") }
        if captureDirectory != other.captureDirectory || captureLimits != other.captureLimits { keys.append("capture") }
        if apiAddress != other.apiAddress || apiTokenFile != other.apiTokenFile { keys.append("api") }
        if alertsPath != other.alertsPath { keys.append("alerts.file") }
        if idleTimeoutSeconds != other.idleTimeoutSeconds || statsIntervalSeconds != other.statsIntervalSeconds
            || logFlows != other.logFlows
        {
            keys.append("idle_timeout_seconds, stats_interval_seconds, log_flows")
        }
        return keys
    }
}
