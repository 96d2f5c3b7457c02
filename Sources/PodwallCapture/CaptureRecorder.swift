import Foundation
import PodwallCore
import PodwallKernel
import Synchronization

/// Moves one kernel capture's packets into its pcap file on a thread of its
/// own: each ring-buffer batch is written in timestamp order and flushed
/// (at most 100 ms after the packets arrived), and the summary is saved
/// every second. It ends when stopped, at the kernel's budget or expiry, at
/// the file's size cap, or on a write error (a full disk), which it records
/// instead of throwing: the agent keeps running.
public final class CaptureRecorder: Sendable {
    public typealias Progress = @Sendable (CaptureSummary) -> Void

    private let kernel: KernelCapture
    private let path: String
    private let store: CaptureStore?
    private let maxFileBytes: Int64
    private let expiresAt: UInt64?
    private let progress: Progress?
    private let wallOffset = MonotonicClock.wallClockOffset()
    private let state: Mutex<State>
    /// Only the recorder thread takes this lock, once per batch (never
    /// contended): it makes the non-Sendable file storable here.
    private let file: Mutex<PcapFile>

    private struct State {
        var summary: CaptureSummary
        var stopRequested = false
        var waiters: [CheckedContinuation<CaptureSummary, Never>] = []
        var done = false
    }

    public init(
        kernel: KernelCapture, request: CaptureRequest, file: sending PcapFile, store: CaptureStore?,
        maxFileBytes: Int64, prelude: UInt64 = 0, progress: Progress? = nil
    ) {
        self.kernel = kernel
        path = file.path
        self.store = store
        self.maxFileBytes = maxFileBytes
        self.progress = progress
        expiresAt = request.durationSeconds.map { MonotonicClock.now() + UInt64($0 * 1e9) }
        var summary = CaptureSummary(request: request, file: file.path, started: Date())
        summary.packets = prelude
        summary.prelude = prelude
        state = Mutex(State(summary: summary))
        self.file = Mutex(file)
    }

    public var id: String { state.withLock { $0.summary.id } }
    public var current: CaptureSummary { state.withLock { $0.summary } }

    public func start() throws {
        let poller = try RingBufferPoller(mapFD: kernel.ringFD)
        try? store?.save(current)
        let thread = Thread { [self] in run(poller) }
        thread.name = "podwall-capture"
        thread.start()
    }

    /// Asks the recorder to end; `finished()` returns once the file is closed.
    public func stop() {
        state.withLock { $0.stopRequested = true }
    }

    public func finished() async -> CaptureSummary {
        await withCheckedContinuation { continuation in
            let result: CaptureSummary? = state.withLock { state in
                if state.done { return state.summary }
                state.waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(returning: result) }
        }
    }

    private func run(_ poller: RingBufferPoller) {
        var ending: (CaptureSummary.State, String)?
        var batch: [CapturedPacket] = []
        var lastSave = Date.distantPast
        while ending == nil {
            do {
                try poller.poll(timeoutMilliseconds: 100) { Self.collect($0, into: &batch) }
                ending = try writeBatch(&batch)
            } catch {
                ending = (.failed, "\(error)")
            }
            let counters = kernel.counters
            ending = ending ?? endCondition(counters)
            let saving = Date().timeIntervalSince(lastSave) >= 1
            if saving { lastSave = Date() }
            update(counters, saving: saving)
        }
        // Whatever the kernel delivered before the slot closed still goes in.
        let final = (try? kernel.stop()) ?? kernel.counters
        if ending?.0 != .failed {
            poller.consume { Self.collect($0, into: &batch) }
            do { _ = try writeBatch(&batch) } catch { ending = (.failed, "\(error)") }
        }
        do { try file.withLock { try $0.close() } } catch  where ending?.0 != .failed { ending = (.failed, "\(error)") } catch {}
        finish(final, state: ending!.0, reason: ending!.1)
    }

    private static func collect(_ record: UnsafeRawBufferPointer, into batch: inout [CapturedPacket]) {
        if let packet = CapturedPacket(record: record) { batch.append(packet) }
    }

    /// Writes the batch in timestamp order and empties it; says so when the file is full.
    private func writeBatch(_ batch: inout [CapturedPacket]) throws -> (CaptureSummary.State, String)? {
        guard !batch.isEmpty else { return nil }
        defer { batch.removeAll(keepingCapacity: true) }
        batch.sort { $0.monotonicNanoseconds < $1.monotonicNanoseconds }
        return try file.withLock { file -> (CaptureSummary.State, String)? in
            var written: UInt64 = 0, bytes: UInt64 = 0, overCap: UInt64 = 0
            for packet in batch {
                if file.size + Int64(pcapRecordHeaderBytes + packet.data.count) > maxFileBytes {
                    overCap += 1
                    continue
                }
                file.write(
                    packet.data, originalLength: packet.originalLength,
                    unixNanoseconds: Int64(packet.monotonicNanoseconds) + wallOffset)
                written += 1
                bytes += UInt64(packet.data.count)
            }
            state.withLock {
                $0.summary.packets += written
                $0.summary.bytes += bytes
                $0.summary.overFileCap += overCap
            }
            try file.flush()
            return overCap > 0 ? (.finished, "file size cap") : nil
        }
    }

    private func endCondition(_ counters: CaptureCounters) -> (CaptureSummary.State, String)? {
        let (stop, written, budget) = state.withLock {
            ($0.stopRequested, $0.summary.packets - $0.summary.prelude + $0.summary.overFileCap, $0.summary.maxPackets)
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
        let fileBytes = file.withLock { $0.size }
        let snapshot = state.withLock { state in
            state.summary.matched = counters.matched
            state.summary.skipped = counters.skipped
            state.summary.lost = counters.lost
            state.summary.fileBytes = fileBytes
            return state.summary
        }
        progress?(snapshot)
        if saving { try? store?.save(snapshot) }
    }

    private func finish(_ counters: CaptureCounters, state: CaptureSummary.State, reason: String) {
        let (final, waiting) = self.state.withLock { recorder in
            recorder.summary.matched = counters.matched
            recorder.summary.skipped = counters.skipped
            recorder.summary.lost = counters.lost
            recorder.summary.fileBytes = Int64(
                (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0)
            recorder.summary.ended = Date()
            recorder.summary.state = state
            recorder.summary.reason = reason
            recorder.done = true
            defer { recorder.waiters = [] }
            return (recorder.summary, recorder.waiters)
        }
        try? store?.save(final)
        progress?(final)
        waiting.forEach { $0.resume(returning: final) }
    }
}
