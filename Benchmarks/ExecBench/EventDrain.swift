import Foundation
import PodwallABI
import PodwallCore
import PodwallKernel
import Synchronization

/// Records taken from the process ring, by type.
struct ReceivedEvents {
    var execs: UInt64 = 0
    var forks: UInt64 = 0
    var exits: UInt64 = 0
    var files: UInt64 = 0
    var other: UInt64 = 0
    /// CPU time of the reading thread (concurrent reading only).
    var readerNanoseconds: UInt64 = 0

    var total: UInt64 { execs + forks + exits + files + other }

    /// Decodes the record as the agent does (that is part of the cost) and counts it.
    mutating func add(_ record: UnsafeRawBufferPointer) {
        switch ProcessEvent(record: record) {
        case .exec?: execs += 1
        case .fork?: forks += 1
        case .exit?: exits += 1
        case .file?: files += 1
        case .stdioRedirect?, .relayConnect?, .breakout?, nil: other += 1
        }
    }
}

/// Reads a monitor's ring: on its own thread while the execs run (as the
/// agent's reader does), or, with `concurrent: false`, only when told
/// (so that a small ring overflows, or to time the programs without the
/// reader's wakeups).
final class EventDrain: Sendable {
    private let poller: RingBufferPoller
    private let received = Mutex(ReceivedEvents())
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let concurrent: Bool

    init(_ monitor: ProcessMonitor, concurrent: Bool = true) throws {
        poller = try RingBufferPoller(mapFD: monitor.eventsFD)
        self.concurrent = concurrent
        guard concurrent else { return }
        Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                _ = try? poller.poll(timeoutMilliseconds: ProcessMonitor.pollMilliseconds) { record in received.withLock { $0.add(record) }
                }
            }
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            received.withLock { $0.readerNanoseconds = UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec) }
            stopped.signal()
        }.start()
    }

    /// Takes what is in the ring now (with `concurrent: false`, between measurements).
    func takeAvailable() {
        poller.consume { record in received.withLock { $0.add(record) } }
    }

    /// Stops the reader, takes what is left in the ring and returns every record received.
    func finish() -> ReceivedEvents {
        if concurrent {
            stopping.store(true, ordering: .relaxed)
            stopped.wait()
        }
        takeAvailable()
        return received.withLock { $0 }
    }
}
