import Synchronization

/// Decoded ring records on their way from the ring reader's thread to one
/// consumer, a batch at a time: what one poll read (at most `batchLimit`)
/// costs one AsyncStream yield, so one consumer wakeup. A yield and a
/// `next()` per record (a job on the cooperative pool, a futex wake) were
/// half the agent's time at its ingest ceiling (BENCHMARKS.md).
///
/// The queue is bounded in records, as it was when each record was one
/// element: past `capacity` records waiting, the newest are dropped and
/// counted, the older ones kept.
public struct RecordBatches<Record: Sendable>: AsyncSequence, Sendable {
    public typealias Element = [Record]

    let stream: AsyncStream<[Record]>
    let queue: RecordQueue<Record>

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), queue: queue)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<[Record]>.AsyncIterator
        let queue: RecordQueue<Record>

        public mutating func next() async -> [Record]? {
            guard let batch = await base.next() else { return nil }
            queue.taken(batch.count)
            return batch
        }
    }
}

/// The reader's end of the queue: collects a poll's records, sends them as
/// one batch, and counts what was sent and what the full queue refused.
final class RecordQueue<Record: Sendable>: @unchecked Sendable {  // `pending`: the reader thread's only; the rest atomic
    private let continuation: AsyncStream<[Record]>.Continuation
    private let capacity: Int
    private let batchLimit: Int
    private let counts: DeliveryCounts
    /// Records sent and not yet taken by the consumer.
    private let queued = Atomic<Int>(0)
    private var pending: [Record] = []

    init(_ continuation: AsyncStream<[Record]>.Continuation, capacity: Int, batchLimit: Int, counts: DeliveryCounts) {
        self.continuation = continuation
        self.capacity = capacity
        self.batchLimit = batchLimit
        self.counts = counts
    }

    /// Consumed: moved into the batch, not copied (a record is ~240 bytes).
    func append(_ record: consuming Record) {
        pending.append(record)
        if pending.count >= batchLimit { send() }
    }

    /// Sends what was collected (the end of a poll, or a full batch).
    func send() {
        guard !pending.isEmpty else { return }
        // Only this thread adds to `queued`: the room can only grow meanwhile.
        let room = max(0, capacity - queued.load(ordering: .relaxed))
        if pending.count > room {
            counts.dropped.add(UInt64(pending.count - room), ordering: .relaxed)
            pending.removeLast(pending.count - room)
            guard !pending.isEmpty else { return }
        }
        let sent = pending.count
        queued.add(sent, ordering: .relaxed)
        continuation.yield(pending)
        counts.delivered.add(UInt64(sent), ordering: .relaxed)
        // The next batch is likely the size of this one: grown once, not by doubling.
        pending = []
        pending.reserveCapacity(sent)
    }

    /// The consumer took `count` records off the queue.
    func taken(_ count: Int) {
        queued.subtract(count, ordering: .relaxed)
    }
}

/// Records the reader handed to the queue, and records it refused because
/// the queue was full.
final class DeliveryCounts: Sendable {
    let dropped = Atomic<UInt64>(0)
    let delivered = Atomic<UInt64>(0)
}
