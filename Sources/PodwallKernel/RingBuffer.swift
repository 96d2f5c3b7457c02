import CPodwallShim
import Foundation
import Glibc

/// Consumes a BPF ring buffer on a dedicated thread. Each record is handed
/// to `decode` while it is still in the ring (no copy), and what it returns
/// goes to the consumer in batches (`RecordBatches`). Records the consumer
/// could not take in time are counted, never dropped silently.
public final class RingBufferReader<Element: Sendable>: Sendable {
    public typealias Decoder = @Sendable (UnsafeRawBufferPointer) -> Element?

    private let mapFD: Int32
    private let decode: Decoder
    /// How long a poll waits: the longest a record that did not wake the
    /// reader (the process ring's forks and exits) waits to be read.
    private let pollTimeoutMilliseconds: Int32
    private let stopFlag = AtomicFlag()
    private let counts = DeliveryCounts()

    public init(mapFD: Int32, pollTimeoutMilliseconds: Int32 = 100, decode: @escaping Decoder) {
        self.mapFD = mapFD
        self.pollTimeoutMilliseconds = pollTimeoutMilliseconds
        self.decode = decode
    }

    /// Records lost because the userspace queue was full.
    public var queueDrops: UInt64 { counts.dropped.load(ordering: .relaxed) }
    public var deliveredCount: UInt64 { counts.delivered.load(ordering: .relaxed) }

    public func stop() {
        stopFlag.set()
    }

    /// Starts the reader thread. `queueCapacity` bounds the records waiting
    /// for the consumer; `batchLimit` the records of one batch (a poll that
    /// reads more sends several).
    public func records(queueCapacity: Int = 65536, batchLimit: Int = 1024) throws -> RecordBatches<Element> {
        let (stream, continuation) = AsyncStream<[Element]>.makeStream()
        let queue = RecordQueue(continuation, capacity: queueCapacity, batchLimit: batchLimit, counts: counts)
        let sink = RingBufferSink { [decode] bytes in
            if let element = decode(bytes) { queue.append(element) }
        }
        let context = Unmanaged.passRetained(sink)
        guard let ring = ring_buffer__new(mapFD, ringBufferSample, context.toOpaque(), nil) else {
            context.release()
            throw KernelError("opening ring buffer", "map fd \(mapFD)", errno: Glibc.errno)
        }
        continuation.onTermination = { [stopFlag] _ in stopFlag.set() }
        let handles = PollHandles(ring: ring, context: context)
        let thread = Thread { [stopFlag, pollTimeoutMilliseconds] in
            let ring = handles.ring
            while !stopFlag.isSet {
                let result = ring_buffer__poll(ring, pollTimeoutMilliseconds)
                if result < 0 && result != -EINTR {
                    FileHandleLog.error("ring buffer poll failed: \(String(cString: strerror(-result)))")
                    break
                }
                // A poll that timed out consumes nothing: records submitted
                // without a wakeup (BPF_RB_NO_WAKEUP) are taken here.
                if result == 0 { _ = ring_buffer__consume(ring) }
                queue.send()
            }
            ring_buffer__free(ring)
            handles.context.release()
            continuation.finish()
        }
        thread.name = "podwall-ringbuf"
        thread.start()
        return RecordBatches(stream: stream, queue: queue)
    }

    /// Decodes every record now in the ring, without waiting (tests, tools).
    public static func drain(mapFD: Int32, decode: Decoder) throws -> [Element] {
        var records: [[UInt8]] = []
        try RingBufferPoller(mapFD: mapFD).consume { records.append(Array($0)) }
        return records.compactMap { record in record.withUnsafeBytes { decode($0) } }
    }

    private struct PollHandles: @unchecked Sendable {  // C ring pointer and context: the poll thread owns them
        let ring: OpaquePointer
        let context: Unmanaged<RingBufferSink>
    }
}

/// A ring buffer read on the caller's thread: `poll` waits for records and
/// hands each to `handle` while it is still in the ring, then returns, so a
/// caller sees where each batch ends (the pcap writer flushes there). The
/// handler is given per call, so what it fills can stay the caller's own.
public final class RingBufferPoller: @unchecked Sendable {  // a libbpf ring pointer: handed to one thread, used there only
    private let ring: OpaquePointer
    private let sink = RingBufferSink { _ in }

    public init(mapFD: Int32) throws {
        guard let ring = ring_buffer__new(mapFD, ringBufferSample, Unmanaged.passUnretained(sink).toOpaque(), nil) else {
            throw KernelError("opening ring buffer", "map fd \(mapFD)", errno: Glibc.errno)
        }
        self.ring = ring
    }

    /// Waits up to `timeoutMilliseconds` for records; returns how many were
    /// handled. A wait that times out takes what is there anyway: records
    /// submitted without a wakeup (BPF_RB_NO_WAKEUP).
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, handle: (UnsafeRawBufferPointer) -> Void) throws -> Int32 {
        let result = sink.handling(with: handle) { ring_buffer__poll(ring, timeoutMilliseconds) }
        if result < 0 && result != -EINTR {
            throw KernelError("polling ring buffer", "capture ring", errno: -result)
        }
        return result == 0 ? consume(handle: handle) : max(0, result)
    }

    /// Handles every record now in the ring, without waiting.
    @discardableResult
    public func consume(handle: (UnsafeRawBufferPointer) -> Void) -> Int32 {
        max(0, sink.handling(with: handle) { ring_buffer__consume(ring) })
    }

    deinit { ring_buffer__free(ring) }
}

/// The C callback's context: a record handler, outside the generic class
/// because a C function pointer cannot capture generic parameters.
private final class RingBufferSink {
    private var handle: (UnsafeRawBufferPointer) -> Void
    init(_ handle: @escaping (UnsafeRawBufferPointer) -> Void) { self.handle = handle }

    func callAsFunction(_ record: UnsafeRawBufferPointer) { handle(record) }

    /// Runs `body` (a poll) with `handler` taking the records it reads.
    func handling<Result>(with handler: (UnsafeRawBufferPointer) -> Void, _ body: () -> Result) -> Result {
        withoutActuallyEscaping(handler) { handler in
            let previous = handle
            handle = handler
            defer { handle = previous }
            return body()
        }
    }
}

private func ringBufferSample(_ context: UnsafeMutableRawPointer?, _ data: UnsafeMutableRawPointer?, _ size: Int) -> Int32 {
    guard let context, let data else { return 0 }
    // The reader holds the sink for as long as it polls: no retain per record.
    Unmanaged<RingBufferSink>.fromOpaque(context)._withUnsafeGuaranteedRef { $0(UnsafeRawBufferPointer(start: data, count: size)) }
    return 0
}
