import Foundation
import PodwallCore
import PodwallKernel

/// Moves one kernel capture's packets into its pcap file on a thread of its
/// own: each ring-buffer batch is written in timestamp order and flushed
/// (at most 100 ms after the packets arrived), and the summary is saved
/// every second. It ends when stopped, at the kernel's budget or expiry, at
/// the file's size cap, or on a write error (a full disk), which it records
/// instead of throwing: the agent keeps running.
public final class CaptureRecorder: @unchecked Sendable {
    public typealias Progress = @Sendable (CaptureSummary) -> Void

    private let kernel: KernelCapture
    private let file: PcapFile
    private let store: CaptureStore?
    private let maxFileBytes: Int64
    private let expiresAt: UInt64?
    private let progress: Progress?
    private let wallOffset = MonotonicClock.wallClockOffset()

    private let lock = NSLock()
    private var summary: CaptureSummary
    private var stopRequested = false
    private var waiters: [CheckedContinuation<CaptureSummary, Never>] = []
    private var done = false

    public init(kernel: KernelCapture, request: CaptureRequest, file: PcapFile, store: CaptureStore?,
                maxFileBytes: Int64, prelude: UInt64 = 0, progress: Progress? = nil) {
        self.kernel = kernel
        self.file = file
        self.store = store
        self.maxFileBytes = maxFileBytes
        self.progress = progress
        expiresAt = request.durationSeconds.map { MonotonicClock.now() + UInt64($0 * 1e9) }
        summary = CaptureSummary(request: request, file: file.path, started: Date())
        summary.packets = prelude
        summary.prelude = prelude
    }

    public var id: String { lock.withLock { summary.id } }
    public var current: CaptureSummary { lock.withLock { summary } }

    public func start() throws {
        let poller = try RingBufferPoller(mapFD: kernel.ringFD) { [unowned self] bytes in
            if let packet = CapturedPacket(record: bytes) { self.batch.append(packet) }
        }
        try? store?.save(current)
        let thread = Thread { [self] in run(poller) }
        thread.name = "podwall-capture"
        thread.start()
    }

    /// Asks the recorder to end; `finished()` returns once the file is closed.
    public func stop() {
        lock.withLock { stopRequested = true }
    }

    public func finished() async -> CaptureSummary {
        await withCheckedContinuation { continuation in
            let result: CaptureSummary? = lock.withLock {
                if done { return summary }
                waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(returning: result) }
        }
    }

    // Touched by the recorder thread only.
    private var batch: [CapturedPacket] = []
    private var lastSave = Date.distantPast

    private func run(_ poller: RingBufferPoller) {
        var ending: (CaptureSummary.State, String)?
        while ending == nil {
            do {
                try poller.poll(timeoutMilliseconds: 100)
                ending = try writeBatch()
            } catch {
                ending = (.failed, "\(error)")
            }
            let counters = kernel.counters
            ending = ending ?? endCondition(counters)
            update(counters, saving: Date().timeIntervalSince(lastSave) >= 1)
        }
        // Whatever the kernel delivered before the slot closed still goes in.
        let final = (try? kernel.stop()) ?? kernel.counters
        if ending?.0 != .failed {
            poller.consume()
            do { _ = try writeBatch() } catch { ending = (.failed, "\(error)") }
        }
        do { try file.close() } catch where ending?.0 != .failed { ending = (.failed, "\(error)") } catch {}
        finish(final, state: ending!.0, reason: ending!.1)
    }

    /// Writes the batch in timestamp order; says so when the file is full.
    private func writeBatch() throws -> (CaptureSummary.State, String)? {
        guard !batch.isEmpty else { return nil }
        defer { batch.removeAll(keepingCapacity: true) }
        batch.sort { $0.monotonicNanoseconds < $1.monotonicNanoseconds }
        var written: UInt64 = 0, bytes: UInt64 = 0, overCap: UInt64 = 0
        for packet in batch {
            if file.size + Int64(pcapRecordHeaderBytes + packet.data.count) > maxFileBytes {
                overCap += 1
                continue
            }
            file.write(packet.data, originalLength: packet.originalLength,
                       unixNanoseconds: Int64(packet.monotonicNanoseconds) + wallOffset)
            written += 1
            bytes += UInt64(packet.data.count)
        }
        lock.withLock {
            summary.packets += written
            summary.bytes += bytes
            summary.overFileCap += overCap
        }
        try file.flush()
        return overCap > 0 ? (.finished, "file size cap") : nil
    }

    private func endCondition(_ counters: CaptureCounters) -> (CaptureSummary.State, String)? {
        let (stop, written, budget) = lock.withLock {
            (stopRequested, summary.packets - summary.prelude + summary.overFileCap, summary.maxPackets)
        }
        if stop { return (.finished, "stopped") }
        // The kernel delivers no more once the budget is spent; end when all it delivered is written.
        if let budget, counters.captured + counters.lost >= budget, written >= counters.captured {
            return (.finished, "budget")
        }
        if let expiresAt, MonotonicClock.now() > expiresAt { return (.finished, "expired") }
        return nil
    }

    private func update(_ counters: CaptureCounters, saving: Bool) {
        let snapshot = lock.withLock {
            summary.matched = counters.matched
            summary.skipped = counters.skipped
            summary.lost = counters.lost
            summary.fileBytes = file.size
            return summary
        }
        progress?(snapshot)
        if saving {
            lastSave = Date()
            try? store?.save(snapshot)
        }
    }

    private func finish(_ counters: CaptureCounters, state: CaptureSummary.State, reason: String) {
        let (final, waiting) = lock.withLock {
            summary.matched = counters.matched
            summary.skipped = counters.skipped
            summary.lost = counters.lost
            summary.fileBytes = Int64((try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0)
            summary.ended = Date()
            summary.state = state
            summary.reason = reason
            done = true
            defer { waiters = [] }
            return (summary, waiters)
        }
        try? store?.save(final)
        progress?(final)
        waiting.forEach { $0.resume(returning: final) }
    }
}
