import CPodwallShim
import Foundation

/// Runs code inside a named network namespace on a thread of its own: setns
/// changes only the calling thread, so sockets made in `body` belong to that
/// namespace while the rest of the process stays where it is.
public enum NetworkNamespace {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        try OnAThread { try enter(name, body) }.join()
    }

    /// On the calling thread: moves it into the namespace and runs `body`.
    private static func enter<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "network namespace \(name) not found") }
        defer { close(fd) }
        guard pw_shim_enter_network_namespace(fd) == 0 else {
            throw Failure(description: "setns into \(name) failed: errno \(errno)")
        }
        return try body()
    }
}
