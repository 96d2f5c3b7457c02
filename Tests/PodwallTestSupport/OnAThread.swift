import Foundation
import Synchronization

/// Work started on a thread of its own, joined later. Blocking work (accept,
/// a sender in a namespace) must not wait on Swift's cooperative pool: with
/// 2 CPUs it has a handful of threads, and tests blocking all of them on
/// tasks that never get a thread would wait forever.
public final class OnAThread<T: Sendable>: Sendable {
    private let result = Mutex<Result<T, Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    public init(_ body: @escaping @Sendable () throws -> T) {
        Thread.detachNewThread { [self] in
            let outcome = Result { try body() }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Waits for the work to finish; its value, or its error thrown.
    public func join() throws -> T {
        done.wait()
        return try result.withLock { $0 }!.get()
    }
}
