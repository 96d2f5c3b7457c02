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
        let box = ResultBox<T>()
        let thread = Thread {
            defer { box.done.signal() }
            let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                box.result = .failure(Failure(description: "network namespace \(name) not found"))
                return
            }
            defer { close(fd) }
            guard pw_shim_enter_network_namespace(fd) == 0 else {
                box.result = .failure(Failure(description: "setns into \(name) failed: errno \(errno)"))
                return
            }
            box.result = Result { try body() }
        }
        thread.start()
        box.done.wait()
        return try box.result!.get()
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, Error>?
        let done = DispatchSemaphore(value: 0)
    }
}
