import Dispatch
import Glibc
import PodwallLab

/// Tears `lab` down and exits on SIGINT or SIGTERM, so that an interrupted
/// benchmark leaves no namespace, container or cgroup behind. Keep the
/// returned sources for as long as the lab lives.
public func tearDownOnInterrupt(_ lab: Lab) -> [any DispatchSourceSignal] {
    onInterrupt { lab.teardown() }
}

/// Runs `cleanup` and exits on SIGINT or SIGTERM. Keep the returned sources
/// for as long as there is something to clean up.
public func onInterrupt(_ cleanup: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
            cleanup()
            exit(128 + number)
        }
        source.resume()
        return source
    }
}
