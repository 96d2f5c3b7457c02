import Foundation
import Synchronization

/// Work started on a thread of its own, joined later: a namespace's setns
/// stays on that thread, and blocking work (accept, a sender) never waits on
/// Swift's cooperative pool, which with 2 CPUs has a handful of threads:
/// callers blocking all of them on tasks that never get one would hang.
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
