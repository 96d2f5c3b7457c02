import Dispatch
import Glibc
import ServiceLifecycle
import Synchronization

/// SIGTERM and SIGINT, caught from the start of `Agent.run` and the only
/// handler of them: ServiceLifecycle's own catches them only once the service
/// group runs, and one that came while the data path loaded killed the agent
/// half-started (exit 143, seen when scripts/asan-load stopped it right after
/// its first log line). One caught before the group exists stops it as soon
/// as it is handed over.
final class ShutdownSignals: @unchecked Sendable {  // `sources` is set in init only
    private struct State {
        var caught = false
        var group: ServiceGroup?
    }

    private let state = Mutex(State())
    private var sources: [any DispatchSourceSignal] = []

    init(_ signals: [Int32] = [SIGTERM, SIGINT]) {
        for number in signals {
            signal(number, SIG_IGN)  // the source takes it instead of the default action
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.caught() }
            source.resume()
            sources.append(source)
        }
    }

    /// From now on a signal stops `group` gracefully; one caught already does at once.
    func handOver(to group: ServiceGroup) async {
        let caught = state.withLock { state in
            state.group = group
            return state.caught
        }
        if caught { await group.triggerGracefulShutdown() }
    }

    private func caught() {
        let group = state.withLock { state in
            state.caught = true
            return state.group
        }
        if let group { Task { await group.triggerGracefulShutdown() } }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
