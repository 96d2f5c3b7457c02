// Throughput and memory micro-benchmark for the detection pipeline.
// Run: swift run -c release -j 1 podwall-core-bench [events]
import PodwallCore
import PodwallDetection

#if canImport(Glibc)
    import Glibc
#endif

/// The benchmark's own stopwatch (the core never reads a clock).
func monotonicNs() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Resident set size in bytes, from /proc/self/statm (glibc's mallinfo is not imported into Swift).
func residentBytes() -> Int {
    let file = open("/proc/self/statm", O_RDONLY)
    guard file >= 0 else { return 0 }
    defer { close(file) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let count = read(file, &buffer, buffer.count)
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

enum Input {
    case event(FlowEvent)
    case sample(FlowSample)
}

/// A steady mix over `flowCount` concurrently active flows: 1,000 pods each talking to 100 of
/// 2,000 services (20 % outside the cluster). Every flow walks through the same 7 steps, one step
/// per round over all flows: new, request payload, response payload, three samples, end (FIN);
/// then it is reborn with a new local port (a repeat contact, as real clients do).
struct Workload {
    static let steps: UInt64 = 7
    let flowCount: Int
    let podCount = 1_000
    /// Virtual time per event: 10 µs, so one round over 100,000 flows is one second.
    let stepNs: UInt64 = 10_000
    let baseNs: UInt64 = 1_700_000_000_000_000_000
    private let pods: [IPAddress]
    private let services: [(address: IPAddress, port: UInt16, proto: IPProtocol)]
    private let request = PayloadPrefix("GET /api/v1/items?page=2 HTTP/1.1\r\n")
    private let response = PayloadPrefix("HTTP/1.1 200 OK\r\nContent-Type: a")
    private let tlsHello: PayloadPrefix = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]

    init(flowCount: Int) {
        self.flowCount = flowCount
        pods = (0..<podCount).map { IPAddress(ipv4: 0x0a01_0000 | UInt32($0)) }
        let ports: [(UInt16, IPProtocol)] = [(80, .tcp), (443, .tcp), (5432, .tcp), (53, .udp), (8080, .tcp)]
        services = (0..<2_000).map { index in
            let address =
                index % 5 == 4
                ? IPAddress(ipv4: 52 << 24 | UInt32(index % 200) << 16 | UInt32(index))
                : IPAddress(ipv4: 0x0a60_0000 | UInt32(index))
            let (port, proto) = ports[index % ports.count]
            return (address, port, proto)
        }
    }

    func input(_ index: Int) -> Input {
        let slot = index % flowCount
        let round = UInt64(index / flowCount)
        let step = round % Self.steps
        let generation = round / Self.steps
        let pod = slot % podCount
        let lane = slot / podCount
        let service = services[(lane * 37 + pod * 13) % services.count]
        let key = FlowKey(
            ifindex: UInt32(1_000 + pod), proto: service.proto, pod: pods[pod],
            podPort: UInt16(10_000 + lane * 500 + Int(generation % 500)),
            remote: service.address, remotePort: service.port)
        let timestampNs = baseNs + UInt64(index) * stepNs
        let syn = FlowCounters(packets: 1, bytes: 60, tcpFlags: .syn)
        let synAck = FlowCounters(packets: 1, bytes: 60, tcpFlags: [.syn, .ack])
        func event(
            _ kind: FlowEventKind, _ direction: FlowDirection = .fromPod, fromPod: FlowCounters = syn,
            toPod: FlowCounters = synAck
        ) -> Input {
            .event(
                FlowEvent(
                    kind: kind, timestamp: timestampNs, direction: direction,
                    flow: FlowRecord(
                        key: key, firstSeen: timestampNs, lastSeen: timestampNs, podInitiated: true, fromPod: fromPod, toPod: toPod)))
        }
        switch step {
        case 0:
            return event(.new, toPod: FlowCounters())
        case 1:
            var request = syn
            request.payload = service.port == 443 ? tlsHello : self.request
            return event(.payload, fromPod: request)
        case 2:
            var answer = synAck
            answer.payload = response
            return event(.payload, .toPod, toPod: answer)
        case 6:
            return event(.end(.fin))
        default:
            return .sample(FlowSample(key: key, timestampNs: timestampNs, bytesFromPod: (step - 2) * 20_000 + UInt64(pod)))
        }
    }
}

let eventCount = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 10_000_000
let workload = Workload(flowCount: 100_000)

// Baseline: generating the inputs alone.
var checksum: UInt64 = 0
var start = monotonicNs()
for index in 0..<eventCount {
    switch workload.input(index) {
    case .event(let event): checksum &+= event.timestamp
    case .sample(let sample): checksum &+= sample.bytesFromPod
    }
}
let generateNs = monotonicNs() - start

let heapBefore = residentBytes()
var aggregator = Aggregator()
var alerts = 0, updates = 0
var peak = MemoryEstimate()
start = monotonicNs()
for index in 0..<eventCount {
    let now = workload.baseNs + UInt64(index) * workload.stepNs + 1_000_000
    let reports: [Alert]
    switch workload.input(index) {
    case .event(let event): reports = aggregator.observe(event, now: now)
    case .sample(let sample): reports = aggregator.observe(sample, now: now)
    }
    if !reports.isEmpty {
        for report in reports { if report.isUpdate { updates += 1 } else { alerts += 1 } }
    }
    if index & 0xffff == 0 {
        alerts += aggregator.tick(now: now).count
        let memory = aggregator.memory
        if memory.trackedFlows > peak.trackedFlows { peak = memory }
    }
}
let runNs = monotonicNs() - start
let heapAfter = residentBytes()

let seconds = Double(runNs) / 1e9
let netSeconds = Double(runNs - min(runNs, generateNs)) / 1e9
let heapDelta = heapAfter - heapBefore
func rate(_ value: Double) -> String { String(Int(value.rounded())) }
func per(_ bytes: Int, _ count: Int) -> Int { bytes / max(count, 1) }

print("podwall-core-bench: \(eventCount) inputs (flow events + samples) over \(workload.flowCount) active flows, 1,000 pods")
print(
    "  total:          \(rate(Double(eventCount) / seconds)) inputs/s  (\(rate(seconds * 1e9 / Double(eventCount))) ns/input, generation included)"
)
print(
    "  pipeline only:  \(rate(Double(eventCount) / netSeconds)) inputs/s  (generation alone: \(rate(Double(generateNs) / Double(eventCount))) ns/input)"
)
print("  alerts: \(alerts) new, \(updates) updates; \(aggregator.stats)")
print(
    "  memory estimate at peak (table capacity x stride): flow tables \(peak.flowBytes) B for \(peak.trackedFlows) flow entries"
        + " = \(per(peak.flowBytes, peak.trackedFlows)) B/flow; source tables \(peak.sourceBytes) B for \(peak.trackedSources)"
        + " sources = \(per(peak.sourceBytes, peak.trackedSources)) B/source")
print(
    "  RSS growth over the run (/proc/self/statm): \(heapDelta) B = \(per(heapDelta, workload.flowCount)) B per active flow, all tables included"
)
