import Testing

@testable import PodwallKernel

/// The ring reader's handoff to the consumer: a poll's records in one
/// batch, and a queue bounded in records whose overflow is counted.
struct RecordBatchesTests {
    @Test func aPollsRecordsGoAsOneBatchSplitAtTheLimit() async {
        let (stream, continuation) = AsyncStream<[Int]>.makeStream()
        let counts = DeliveryCounts()
        let queue = RecordQueue(continuation, capacity: 100, batchLimit: 4, counts: counts)
        for record in 0..<6 { queue.append(record) }
        queue.send()
        queue.send()  // nothing new: no empty batch
        continuation.finish()
        var batches: [[Int]] = []
        for await batch in RecordBatches(stream: stream, queue: queue) { batches.append(batch) }
        #expect(batches == [[0, 1, 2, 3], [4, 5]])
        #expect(counts.delivered.load(ordering: .relaxed) == 6)
        #expect(counts.dropped.load(ordering: .relaxed) == 0)
    }

    @Test func aFullQueueDropsTheNewestRecordsAndCountsThem() async {
        let (stream, continuation) = AsyncStream<[Int]>.makeStream()
        let counts = DeliveryCounts()
        let queue = RecordQueue(continuation, capacity: 5, batchLimit: 4, counts: counts)
        var batches = RecordBatches(stream: stream, queue: queue).makeAsyncIterator()
        for record in 0..<7 { queue.append(record) }  // 0...3 sent at the limit
        queue.send()  // room for one of 4, 5, 6
        #expect(counts.dropped.load(ordering: .relaxed) == 2)
        #expect(await batches.next() == [0, 1, 2, 3])
        // Taken off the queue: room for four again.
        for record in 7..<9 { queue.append(record) }
        queue.send()
        continuation.finish()
        #expect(await batches.next() == [4])
        #expect(await batches.next() == [7, 8])
        #expect(await batches.next() == nil)
        #expect(counts.delivered.load(ordering: .relaxed) == 7)
        #expect(counts.dropped.load(ordering: .relaxed) == 2)
    }
}
