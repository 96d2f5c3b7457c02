import PodwallCore

/// How a probe's first pod packet looked.
enum ProbeStyle: UInt8, Sendable {
    case udp, syn, fin, null, xmas, ack, other

    /// nil when the flow is not a probe: a TCP flow first seen mid-stream (data, a close or
    /// a reset without SYN). A bare ACK is one (nmap -sA): a connection the flow table forgot
    /// gets an answer (a success), a scan's target resets it (a failure).
    init?(firstPacketOf event: FlowEvent) {
        if event.key.proto == .udp { self = .udp; return }
        let flags = event.flow.fromPod.tcpFlags
        if flags.contains(.syn) {
            self = .syn
        } else if flags == .ack {
            self = .ack
        } else if flags.contains(.ack) || flags.contains(.rst) {
            return nil
        } else if flags.isEmpty {
            self = .null
        } else if flags.isSuperset(of: [.fin, .psh, .urg]) {
            self = .xmas
        } else {
            self = flags == .fin ? .fin : .other
        }
    }

    var name: String {
        switch self {
        case .udp: "udp"
        case .syn: "syn"
        case .fin: "fin"
        case .null: "null"
        case .xmas: "xmas"
        case .ack: "ack"
        case .other: "other"
        }
    }
}

enum ProbeOutcome: UInt8, Sendable {
    case pending, success, failure

    /// What `event` says about its flow's probe: success on any real reply, failure on a
    /// bare RST or an end without reply; nil while still undecided.
    init?(_ event: FlowEvent) {
        switch event.kind {
        // The first answer is a sign of life from the other side, payload or not.
        case .reply: self = .success; return
        case .payload where event.direction == .toPod: self = .success; return
        default: break
        }
        let reply = event.flow.toPod
        if reply.packets > 0
            && (event.key.proto == .udp || reply.tcpFlags.contains(.syn) || !reply.tcpFlags.contains(.rst))
        {
            self = .success
        } else if case .end = event.kind {
            self = .failure
        } else {
            return nil
        }
    }
}

/// A first contact: (host, port, proto) plus what the summary needs to rebuild its flow key.
struct ScanContact: Sendable {
    var host: IPAddress
    var firstSeenNs: UInt64
    var port: UInt16
    var podPort: UInt16
    var proto: IPProtocol
    var style: ProbeStyle
    var outcome: ProbeOutcome = .pending

    var target: ScanTarget { ScanTarget(host: host, port: port, proto: proto) }
}

struct ScanTarget: Hashable, Sendable {
    var host: IPAddress
    var port: UInt16
    var proto: IPProtocol

    func hash(into hasher: inout Hasher) {
        hasher.combine(host.high ^ UInt64(port) << 8 ^ UInt64(proto.rawValue))
        hasher.combine(host.low)
    }
}

/// Everything the scan alert reports, gathered from one source's recent first contacts.
struct ScanSummary {
    var hosts = 0
    var ports = 0
    var failures = 0
    var successes = 0
    var unanswered = 0
    var firstNs: UInt64 = 0
    var lastNs: UInt64 = 0
    var sawTCP = false
    var sawUDP = false
    var tcpStyles: [ProbeStyle] = []
    var flows: [FlowKey] = []
}

/// Per-source scan state: the first-contact memory (retries count once), the fan-out window
/// counts, and the TRW walk.
///
/// The memory has a horizon: a target not contacted again for `memoryNs` is forgotten, so the
/// same ports scanned again later are a new scan, judged again, while a client that keeps
/// retrying one service (each retry refreshes the target) still counts once.
struct ScanSourceState: Sendable {
    private struct Remembered: Sendable {
        /// The target's last contact, first or repeat.
        var lastNs: UInt64
        /// Its entry in `log`.
        var sequence: UInt64
    }

    let key: SourceKey
    /// Bumped when the slot is reused, so late probe outcomes for an evicted source are ignored.
    let generation: UInt32

    /// Every target this source has contacted within the horizon (bounded; oldest forgotten first).
    private var contacts: [ScanTarget: Remembered] = [:]
    /// The same contacts in arrival order.
    private var log = RingBuffer<ScanContact>()
    /// Sequence number of `log[0]`; a probe remembers its sequence to record its outcome.
    private var firstSequence: UInt64 = 0
    /// The newest `inWindow` log entries are inside the fan-out window.
    private var inWindow = 0
    private var hostsPerPort: [UInt32: Int32] = [:]
    private var portsPerHost: [IPAddress: Int32] = [:]

    /// TRW log-likelihood ratio.
    var score = 0.0
    /// Start of the current walk; nil until the next first contact after a restart.
    var walkStartNs: UInt64?

    init(key: SourceKey, generation: UInt32) {
        self.key = key
        self.generation = generation
    }

    var contactCount: Int { log.count }

    struct Recorded {
        var sequence: UInt64
        var hostsOnPort: Int
        var portsOnHost: Int
        var evicted: Int
    }

    /// Records a first contact; nil when the target was contacted less than `memoryNs` ago (a retry).
    mutating func record(_ contact: ScanContact, windowNs: UInt64, memoryNs: UInt64, maxContacts: Int) -> Recorded? {
        let target = contact.target
        if let index = contacts.index(forKey: target), contact.firstSeenNs < contacts.values[index].lastNs &+ memoryNs {
            contacts.values[index].lastNs = max(contacts.values[index].lastNs, contact.firstSeenNs)
            return nil
        }
        var evicted = 0
        while log.count >= max(maxContacts, 1) {
            evictOldest()
            evicted += 1
        }
        expireWindow(now: contact.firstSeenNs, windowNs: windowNs)
        log.append(contact)
        contacts[target] = Remembered(lastNs: contact.firstSeenNs, sequence: firstSequence + UInt64(log.count - 1))
        inWindow += 1
        if walkStartNs == nil { walkStartNs = contact.firstSeenNs }
        hostsPerPort[Self.portKey(contact), default: 0] += 1
        portsPerHost[contact.host, default: 0] += 1
        return Recorded(
            sequence: firstSequence + UInt64(log.count - 1),
            hostsOnPort: Int(hostsPerPort[Self.portKey(contact)] ?? 0),
            portsOnHost: Int(portsPerHost[contact.host] ?? 0),
            evicted: evicted)
    }

    mutating func setOutcome(_ outcome: ProbeOutcome, sequence: UInt64) {
        guard sequence >= firstSequence, sequence - firstSequence < UInt64(log.count) else { return }
        log[Int(sequence - firstSequence)].outcome = outcome
    }

    /// Empties the fan-out window (after it alerted, so the next alert needs a fresh batch).
    mutating func resetWindow() {
        hostsPerPort.removeAll(keepingCapacity: true)
        portsPerHost.removeAll(keepingCapacity: true)
        inWindow = 0
    }

    mutating func restartWalk() {
        score = 0
        walkStartNs = nil
    }

    /// Summarises the first contacts made at or after `sinceNs`, newest first.
    func summarize(sinceNs: UInt64) -> ScanSummary {
        var summary = ScanSummary()
        var hosts = Set<IPAddress>(), ports = Set<UInt32>(), styles = Set<UInt8>()
        var index = log.count - 1
        while index >= 0, log[index].firstSeenNs >= sinceNs {
            let contact = log[index]
            hosts.insert(contact.host)
            ports.insert(Self.portKey(contact))
            switch contact.outcome {
            case .pending: summary.unanswered += 1
            case .success: summary.successes += 1
            case .failure: summary.failures += 1
            }
            if contact.proto == .udp { summary.sawUDP = true } else { summary.sawTCP = true }
            if contact.style != .udp { styles.insert(contact.style.rawValue) }
            if summary.flows.count < Alert.maxFlows {
                summary.flows.append(
                    FlowKey(
                        ifindex: key.ifindex, proto: contact.proto, pod: key.address, podPort: contact.podPort,
                        remote: contact.host, remotePort: contact.port))
            }
            summary.lastNs = max(summary.lastNs, contact.firstSeenNs)
            summary.firstNs = contact.firstSeenNs
            index -= 1
        }
        summary.hosts = hosts.count
        summary.ports = ports.count
        summary.tcpStyles = styles.sorted().compactMap(ProbeStyle.init(rawValue:))
        return summary
    }

    /// Heap bytes of this source's tables.
    var approximateBytes: Int {
        tableBytes(contacts) + log.capacity * MemoryLayout<ScanContact>.stride
            + tableBytes(hostsPerPort) + tableBytes(portsPerHost)
    }

    private static func portKey(_ contact: ScanContact) -> UInt32 {
        UInt32(contact.proto.rawValue) << 16 | UInt32(contact.port)
    }

    private mutating func evictOldest() {
        let oldest = log.removeFirst()
        // A target contacted again past the horizon has a newer entry: it stays remembered.
        if contacts[oldest.target]?.sequence == firstSequence { contacts.removeValue(forKey: oldest.target) }
        firstSequence += 1
        if inWindow > log.count {
            inWindow = log.count
            leaveWindow(oldest)
        }
    }

    /// Drops contacts older than the window from the fan-out counts (they stay remembered).
    private mutating func expireWindow(now: UInt64, windowNs: UInt64) {
        while inWindow > 0 {
            let contact = log[log.count - inWindow]
            guard contact.firstSeenNs &+ windowNs <= now else { break }
            leaveWindow(contact)
            inWindow -= 1
        }
    }

    private mutating func leaveWindow(_ contact: ScanContact) {
        Self.decrement(&hostsPerPort, Self.portKey(contact))
        Self.decrement(&portsPerHost, contact.host)
    }

    private static func decrement<Key: Hashable>(_ counts: inout [Key: Int32], _ key: Key) {
        guard let index = counts.index(forKey: key) else { return }
        if counts.values[index] <= 1 { counts.remove(at: index) } else { counts.values[index] -= 1 }
    }
}
