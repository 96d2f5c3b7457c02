import Foundation
import Testing

/// Gate for tests that load BPF programs or build network namespaces.
/// Locally they skip without root; under CI=true they always run, so that
/// missing privileges or BPF support fail the run instead of skipping.
public enum Privileged {
    public static let isRoot = geteuid() == 0
    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    public static let enabled = isRoot || isCI
    public static let reason: Comment =
        "needs root for BPF and network namespaces: run the tests as root (with CI=true they fail instead of skipping)"
}

/// The `podwall` binary built next to the test bundle (or $PODWALL_BIN).
public enum PodwallBinary {
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["PODWALL_BIN"] { return explicit }
        let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        return buildDirectory.appendingPathComponent("podwall").path
    }
}

/// How much slower this machine runs the tests: PODWALL_TEST_TIME_SCALE,
/// set by scripts/kernel-matrix for kernels under software emulation (about
/// 25 times slower). Waits stretch by it; what a test measures does not.
public let testTimeScale = Double(ProcessInfo.processInfo.environment["PODWALL_TEST_TIME_SCALE"] ?? "") ?? 1

/// Polls `condition` every 10 ms until it holds or `timeout` (times
/// `testTimeScale`) passes; returns the seconds it took, or nil on timeout.
public func waitUntil(timeout: Double, _ condition: () throws -> Bool) rethrows -> Double? {
    let timeout = timeout * testTimeScale
    let start = Date()
    while Date().timeIntervalSince(start) < timeout {
        if try condition() { return Date().timeIntervalSince(start) }
        usleep(10_000)
    }
    return try condition() ? Date().timeIntervalSince(start) : nil
}
