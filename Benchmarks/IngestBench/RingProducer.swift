import Glibc
import PodwallBenchBPFObjects
import PodwallBenchSupport
import PodwallKernel

/// The synthetic ring producer (`bpf/bench/ingest.bpf.c`) loaded under an
/// agent's pin root, so that its records go into that agent's events ring.
/// Each BPF_PROG_TEST_RUN call runs it `repeat` times: one record a run.
struct RingProducer {
    struct Run {
        let events: Int
        let seconds: Double
        /// The program's run time per record, as the kernel measured it (median of the calls).
        let kernelNsPerEvent: Double
        var rate: Double { Double(events) / seconds }
    }

    private let object: BPFObject
    private let program: BPFProgram
    private static let packet = [UInt8](repeating: 0, count: 64)
    /// Records per call: at most a quarter of a 1 MiB ring (248 bytes a record).
    private static let largestBatch = 1024

    init(pinRoot: String) throws {
        object = try BPFObject(image: .ingest, pinRoot: pinRoot)
        program = try object.program(named: "ingest_produce")
    }

    /// `rate` records a second (nil: as fast as the producer goes) for `seconds`,
    /// in calls of at most a quarter millisecond's worth each.
    func produce(rate: Double?, seconds: Double) throws -> Run {
        let batch = rate.map { min(Self.largestBatch, max(1, Int($0 / 4000))) } ?? Self.largestBatch
        let start = MonotonicClock.now()
        let end = start + UInt64(seconds * 1e9)
        var produced = 0
        var runNs: [Double] = []
        while true {
            let now = MonotonicClock.now()
            guard now < end else { break }
            if let rate {
                // Ahead of the schedule: sleep until the next batch is due.
                let dueAt = start + UInt64(Double(produced + batch) / rate * 1e9)
                if dueAt > now {
                    var pause = timespec(tv_sec: Int((dueAt - now) / 1_000_000_000), tv_nsec: Int((dueAt - now) % 1_000_000_000))
                    nanosleep(&pause, nil)
                    continue
                }
            }
            let run = try ProgramTestRun.run(program, packet: Self.packet, repeat: UInt32(batch))
            runNs.append(Double(run.durationNanoseconds))
            produced += batch
        }
        return Run(
            events: produced, seconds: Double(MonotonicClock.now() - start) / 1e9, kernelNsPerEvent: runNs.isEmpty ? 0 : median(runNs))
    }
}
