// The live agent's event-ingest ceiling (#16, #19): a synthetic producer
// (bpf/bench/ingest.bpf.c, BPF_PROG_TEST_RUN) writes flow records into each
// agent's real events ring at increasing rates; the agent, pinned to one core,
// reads, decodes, queues and runs its detectors on them as on a node. A rate
// passes when the agent's own counters (/metrics: podwall_events_lost_total,
// ring and queue) lost none and its stats line delivered every record. The
// agents given run side by side, each rate measured on each in turn.
// Run as root, the bench on another core than the agents:
//   swift build -c release --product podwall-ingest-bench
//   taskset -c 0 .build/release/podwall-ingest-bench [seconds per rate] [agent core] [rounds] LABEL=PODWALL_BINARY...
import Foundation
import PodwallBenchSupport
import PodwallKernel
import Synchronization

let arguments = Array(CommandLine.arguments.dropFirst())
let numbers = arguments.prefix { Double($0) != nil }.compactMap(Double.init)
let seconds = numbers.count > 0 ? numbers[0] : 4
let core = numbers.count > 1 ? Int(numbers[1]) : 1
let rounds = numbers.count > 2 ? Int(numbers[2]) : 1
let binaries = arguments.dropFirst(numbers.count).map { argument in
    argument.split(separator: "=", maxSplits: 1).map(String.init)
}
guard !binaries.isEmpty, binaries.allSatisfy({ $0.count == 2 }) else {
    progress("usage: podwall-ingest-bench [seconds per rate] [agent core] [rounds] LABEL=PODWALL_BINARY...")
    exit(2)
}
/// One rate on one agent.
struct Step {
    let target: Double?
    let run: RingProducer.Run
    let lostRing: Double
    let lostQueue: Double
    let delivered: Int
    let cpu: Double
    let readerCPU: Double
    var passed: Bool { lostRing == 0 && lostQueue == 0 && delivered == run.events }
    var cpuMicroseconds: Double { cpu / Double(delivered) * 1e6 }
    var readerMicroseconds: Double { readerCPU / Double(delivered) * 1e6 }
    var row: String {
        let verdict = passed ? "0 lost" : "lost \(Int(lostRing)) ring + \(Int(lostQueue)) queue, \(delivered) delivered"
        return "\(target.map { "\(Int($0 / 1000))k" } ?? "max") | \(Int(run.rate)) | \(verdict) | \(format(cpuMicroseconds, 2)) "
            + "| \(format(readerMicroseconds, 2)) | \(format(run.kernelNsPerEvent, 0))"
    }
}

struct Subject {
    let agent: LiveAgent
    let producer: RingProducer
    let seconds: Double

    /// Events/s tried in turn; an agent stops climbing after two failed rates.
    static let ladder: [Double] = [50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000].map { $0 * 1000 }

    func step(_ rate: Double?) throws -> Step {
        let lostBefore = try agent.lost()
        let cpuBefore = agent.cpu()
        let deliveredBefore = agent.delivered() ?? 0
        let run = try producer.produce(rate: rate, seconds: seconds)
        agent.waitUntilIdle()
        let cpuAfter = agent.cpu()
        usleep(700_000)  // a stats line after the last record
        let lostAfter = try agent.lost()
        let step = Step(
            target: rate, run: run, lostRing: lostAfter.ring - lostBefore.ring, lostQueue: lostAfter.queue - lostBefore.queue,
            delivered: (agent.delivered() ?? 0) - deliveredBefore, cpu: cpuAfter.total - cpuBefore.total,
            readerCPU: cpuAfter.reader - cpuBefore.reader)
        progress("\(agent.label): \(step.row)")
        return step
    }
}

/// The highest rate with nothing lost: up the ladder, then three halvings
/// between the last rate passed and the first failed. Agents take turns at each rate.
func climb(_ subjects: [Subject]) throws -> [[Step]] {
    var steps = subjects.map { _ in [Step]() }
    var failures = subjects.map { _ in 0 }
    for (index, rate) in Subject.ladder.enumerated() {
        let order = index % 2 == 0 ? Array(subjects.indices) : subjects.indices.reversed()
        for subject in order where failures[subject] < 2 {
            let step = try subjects[subject].step(rate)
            steps[subject].append(step)
            failures[subject] = step.passed ? 0 : failures[subject] + 1
        }
    }
    for _ in 0..<3 {
        for subject in subjects.indices {
            let passed = steps[subject].filter(\.passed).compactMap(\.target).max() ?? 0
            guard let failed = steps[subject].filter({ !$0.passed }).compactMap(\.target).filter({ $0 > passed }).min() else {
                continue
            }
            steps[subject].append(try subjects[subject].step(((passed + failed) / 2 / 1000).rounded() * 1000))
        }
    }
    for subject in subjects.indices { steps[subject].append(try subjects[subject].step(nil)) }
    return steps
}

LibbpfLog.capture(echo: false)
let running = Mutex<[LiveAgent]>([])
let interrupts = onInterrupt { running.withLock { $0.forEach { $0.stop() } } }
do {
    for (index, binary) in binaries.enumerated() {
        let agent = try LiveAgent(label: binary[0], binary: binary[1], index: index, core: core)
        running.withLock { $0.append(agent) }
        progress("\(agent.label): pid \(agent.pid), ring reader thread \(agent.readerThread ?? "not found")")
    }
    let agents = running.withLock { $0 }
    let subjects = try agents.map { Subject(agent: $0, producer: try RingProducer(pinRoot: $0.pinRoot), seconds: seconds) }
    var idle: [Double] = []
    for agent in agents {
        let before = agent.cpu().total
        sleep(2)
        idle.append((agent.cpu().total - before) / 2)
    }
    var results: [[[Step]]] = []
    for round in 1...rounds {
        progress("round \(round)")
        results.append(try climb(subjects))
    }

    print("Synthetic flow records (new, reply, payload, end of HTTP connections) into each agent's events ring,")
    print("\(format(seconds, 1)) s per rate; agents on core \(core), one at a time.\n")
    for (index, agent) in agents.enumerated() {
        print(
            "\(agent.label) (\(agent.binary)), round 1 | events/s produced | verdict | agent CPU µs/event | ring reader µs/event | producer ns/event"
        )
        print("|---|---|---|---|---|---|")
        for step in results[0][index] { print("| \(step.row) |") }
        print()
    }
    print(
        "| agent | 0-lost ceiling, events/s, per round | agent CPU µs/event at 100k/s | of it the ring reader | flat out: delivered events/s | flat out: agent CPU µs per delivered event | idle CPU | alerts written |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (index, agent) in agents.enumerated() {
        let steps = results.map { $0[index] }
        let ceilings = steps.map { round in Int((round.filter(\.passed).compactMap(\.target).max() ?? 0) / 1000) }
        let at100k = steps.joined().filter { $0.target == 100_000 && $0.passed }
        let flatOut = steps.compactMap { $0.last }
        print(
            "| \(agent.label) | \(ceilings.map { "\($0)k" }.joined(separator: ", ")) | \(summary(at100k.map(\.cpuMicroseconds), 2)) | "
                + "\(summary(at100k.map(\.readerMicroseconds), 2)) | \(summary(flatOut.map { Double($0.delivered) / $0.run.seconds }, 0)) | "
                + "\(summary(flatOut.map(\.cpuMicroseconds), 2)) | \(format(idle[index] * 100, 1)) % | \(agent.alertsWritten) |")
    }
} catch {
    progress("podwall-ingest-bench: \(error)")
    running.withLock { $0.forEach { $0.stop(removingFiles: false) } }
    exit(1)
}
running.withLock { $0.forEach { $0.stop() } }
withExtendedLifetime(interrupts) {}
