import Foundation
import Logging
import PodwallCore
import PodwallKernel
import Synchronization

/// The agent's captures: starts them in the kernel and the capture
/// directory, keeps the directory within its disk budget, and stops them all
/// (files flushed and closed) when the agent stops.
public final class CaptureManager: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Captures the agent runs at once; the rest of the kernel's slots
        /// stay free for `podwall capture`.
        public var maxConcurrent: Int = 16
        public var budget = CaptureBudget()

        public init(maxConcurrent: Int = 16, budget: CaptureBudget = CaptureBudget()) {
            self.maxConcurrent = maxConcurrent
            self.budget = budget
        }
    }

    public let store: CaptureStore
    private let table: CaptureTable
    private let limits: Limits
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var recorders: [String: CaptureRecorder] = [:]
        var finishedTotals = CaptureTotals()
    }

    /// Packets written and not delivered, over every capture this agent ran.
    public struct CaptureTotals: Sendable {
        public var packets: UInt64 = 0
        public var lost: UInt64 = 0
        public var skipped: UInt64 = 0
        public var running = 0
        public init() {}

        mutating func add(_ summary: CaptureSummary) {
            packets += summary.packets
            lost += summary.lost
            skipped += summary.skipped
            running += summary.state == .running ? 1 : 0
        }
    }

    public init(table: CaptureTable, directory: String, limits: Limits = Limits(), logger: Logger) throws {
        self.table = table
        self.limits = limits
        self.logger = logger
        store = CaptureStore(directory: directory, budget: limits.budget)
        try store.prepare()
    }

    /// Starts a capture unless one with this id runs already. Failures
    /// (slots busy, budget full of running captures, a full disk) are thrown
    /// for the caller to log; nothing else is affected.
    @discardableResult
    public func start(_ request: CaptureRequest, prelude: [PreludePacket] = []) throws -> CaptureRecorder? {
        guard CaptureStore.isValidID(request.id) else { throw CaptureError("capture id '\(request.id)' is not a valid file name") }
        return try state.withLock { state -> CaptureRecorder? in
            for (_, done) in state.recorders where done.current.state != .running {
                state.finishedTotals.add(done.current)
            }
            state.recorders = state.recorders.filter { $0.value.current.state == .running }
            guard state.recorders[request.id] == nil else { return nil }
            guard state.recorders.count < limits.maxConcurrent else {
                throw CaptureError("not starting capture \(request.id): \(limits.maxConcurrent) captures are running")
            }
            let evicted = store.evict(keeping: Set(state.recorders.keys), reserve: limits.budget.maxFileBytes)
            if !evicted.isEmpty { logger.info("evicted old captures to stay within the disk budget", metadata: ["ids": "\(evicted)"]) }
            if store.usage() + Int64(pcapFileHeaderBytes) > limits.budget.maxTotalBytes {
                throw CaptureError("not starting capture \(request.id): running captures fill the disk budget")
            }
            let file = try PcapFile(creating: store.pcapPath(request.id), snaplen: request.snaplen)
            for packet in prelude {
                file.write(
                    Array(packet.data.prefix(Int(request.snaplen))), originalLength: UInt32(packet.data.count),
                    unixNanoseconds: packet.unixNanoseconds)
            }
            let kernel: KernelCapture
            do {
                kernel = try table.start(request)
            } catch {
                try? file.close()
                try? FileManager.default.removeItem(atPath: file.path)
                throw error
            }
            let recorder = CaptureRecorder(
                kernel: kernel, request: request, file: file, store: store,
                maxFileBytes: limits.budget.maxFileBytes, prelude: UInt64(prelude.count))
            try recorder.start()
            state.recorders[request.id] = recorder
            logger.info("capture started", metadata: ["id": "\(request.id)", "filter": "\(request.filter.summary)"])
            Task { [logger] in Self.report(await recorder.finished(), logger: logger) }
            return recorder
        }
    }

    private static func report(_ summary: CaptureSummary, logger: Logger) {
        let metadata: Logger.Metadata = [
            "id": "\(summary.id)", "packets": "\(summary.packets)", "skipped": "\(summary.skipped)",
            "lost": "\(summary.lost)", "file": "\(summary.file)"
        ]
        if summary.state == .failed {
            logger.error("capture \(summary.id) failed: \(summary.reason ?? "unknown error")", metadata: metadata)
        } else {
            logger.info("capture finished (\(summary.reason ?? "done"))", metadata: metadata)
        }
    }

    public var totals: CaptureTotals {
        state.withLock { state in
            var totals = state.finishedTotals
            state.recorders.values.forEach { totals.add($0.current) }
            return totals
        }
    }

    /// Stops every capture and waits until its file is closed.
    public func stopAll() async {
        let all = state.withLock { Array($0.recorders.values) }
        all.forEach { $0.stop() }
        for recorder in all { _ = await recorder.finished() }
    }
}

/// A packet written at the head of a capture's file before the kernel's:
/// for a protocol alert, the packet that triggered it.
public struct PreludePacket: Sendable, Equatable {
    public var data: [UInt8]
    public var unixNanoseconds: Int64

    public init(data: [UInt8], unixNanoseconds: Int64) {
        self.data = data
        self.unixNanoseconds = unixNanoseconds
    }
}
