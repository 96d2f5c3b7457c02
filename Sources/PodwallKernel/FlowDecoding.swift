import PodwallABI
import PodwallCore

/// Converts the ABI's flow structs into the core's flow model.
extension FlowRecord {
    public init(_ key: pw_flow_key, _ value: pw_flow_value) {
        self.init(
            key: FlowKey(key),
            firstSeen: value.first_seen_ns,
            lastSeen: value.last_seen_ns,
            podInitiated: value.flags & UInt32(PW_FLOW_POD_INITIATED.rawValue) != 0,
            fromPod: FlowCounters(value.dir.0),
            toPod: FlowCounters(value.dir.1),
            closed: value.flags & UInt32(PW_FLOW_END_SENT.rawValue) != 0)
    }
}

extension FlowKey {
    public init(_ key: pw_flow_key) {
        self.init(
            ifindex: key.ifindex,
            proto: IPProtocol(rawValue: key.proto),
            pod: withUnsafeBytes(of: key.pod_addr) { IPAddress(bytes: $0)! },
            podPort: key.pod_port,
            remote: withUnsafeBytes(of: key.remote_addr) { IPAddress(bytes: $0)! },
            remotePort: key.remote_port)
    }
}

extension FlowCounters {
    init(_ direction: pw_flow_direction) {
        let length = min(Int(direction.payload_len), Int(PW_PAYLOAD_SNAP))
        self.init(
            packets: direction.packets,
            bytes: direction.bytes,
            tcpFlags: TCPFlags(rawValue: direction.tcp_flags),
            payload: withUnsafeBytes(of: direction.payload) { PayloadPrefix(UnsafeRawBufferPointer(rebasing: $0.prefix(length))) })
    }
}

extension FlowEvent {
    /// Decodes a ring-buffer record; nil for records of other types or sizes.
    public init?(record: UnsafeRawBufferPointer) {
        guard record.count >= MemoryLayout<pw_flow_event>.size,
            record.loadUnaligned(as: pw_event_header.self).size == UInt16(MemoryLayout<pw_flow_event>.size)
        else { return nil }
        let event = record.loadUnaligned(as: pw_flow_event.self)
        let kind: FlowEventKind
        switch Int(event.header.type) {
        case Int(PW_EVENT_FLOW_NEW.rawValue): kind = .new
        case Int(PW_EVENT_FLOW_REPLY.rawValue): kind = .reply
        case Int(PW_EVENT_FLOW_PAYLOAD.rawValue): kind = .payload
        case Int(PW_EVENT_FLOW_VOLUME.rawValue): kind = .volume
        case Int(PW_EVENT_FLOW_END.rawValue):
            kind = .end(event.end_reason == UInt8(PW_END_RST.rawValue) ? .rst : .fin)
        default: return nil
        }
        self.init(
            kind: kind, timestamp: event.header.timestamp_ns,
            direction: event.direction == UInt8(PW_DIR_TO_POD.rawValue) ? .toPod : .fromPod,
            flow: FlowRecord(event.key, event.value))
    }
}

/// A packet dropped at TC or a socket call denied in the pods' cgroup.
public struct DropRecord: Sendable {
    public enum Reason: Sendable { case blocklist, quarantine }

    public let key: FlowKey
    public let timestamp: UInt64
    public let direction: FlowDirection
    public let reason: Reason
    /// The blocklist entry that matched (nil for quarantine).
    public let matched: IPPrefix?
    /// Set for cgroup denials: who called connect() or sendmsg().
    public let process: (pid: UInt32, tgid: UInt32, uid: UInt32, comm: String, cgroupID: UInt64)?

    public init?(record: UnsafeRawBufferPointer) {
        guard record.count >= MemoryLayout<pw_drop_event>.size else { return nil }
        let type = record.loadUnaligned(as: pw_event_header.self).type
        guard type == UInt16(PW_EVENT_DROP.rawValue) || type == UInt16(PW_EVENT_DENY.rawValue) else { return nil }
        let event = record.loadUnaligned(as: pw_drop_event.self)
        key = FlowKey(event.key)
        timestamp = event.header.timestamp_ns
        direction = event.direction == UInt8(PW_DIR_TO_POD.rawValue) ? .toPod : .fromPod
        reason = event.reason == UInt8(PW_DROP_QUARANTINE.rawValue) ? .quarantine : .blocklist
        let address = IPAddress(tuple: event.matched_addr)
        let length = Int(event.matched_prefixlen)
        matched =
            reason == .blocklist && (address.family == .v6 || length >= 96)
            ? IPPrefix(address: address, mappedLength: length) : nil
        if type == UInt16(PW_EVENT_DENY.rawValue) {
            let comm = withUnsafeBytes(of: event.comm) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            process = (UInt32(truncatingIfNeeded: event.pid_tgid), UInt32(event.pid_tgid >> 32), event.uid, comm, event.cgroup_id)
        } else {
            process = nil
        }
    }
}

extension ProcessConnection {
    /// Decodes a PW_EVENT_CONNECT record; nil for any other.
    public init?(record: UnsafeRawBufferPointer) {
        guard record.count >= MemoryLayout<pw_connect_event>.size,
            record.loadUnaligned(as: pw_event_header.self).type == UInt16(PW_EVENT_CONNECT.rawValue)
        else { return nil }
        let event = record.loadUnaligned(as: pw_connect_event.self)
        self.init(
            pid: UInt32(event.pid_tgid >> 32), cgroupID: event.cgroup_id, uid: event.uid, comm: ProcessEvent.text(event.comm),
            proto: IPProtocol(rawValue: event.key.proto), remote: IPAddress(tuple: event.key.remote_addr),
            remotePort: event.key.remote_port, timestampNs: event.header.timestamp_ns)
    }
}

extension FlowSummary {
    /// Decodes a PW_EVENT_FLOW_SUMMARY record; nil for any other.
    public init?(record: UnsafeRawBufferPointer) {
        guard record.count >= MemoryLayout<pw_flow_summary_event>.size,
            record.loadUnaligned(as: pw_event_header.self).type == UInt16(PW_EVENT_FLOW_SUMMARY.rawValue)
        else { return nil }
        let event = record.loadUnaligned(as: pw_flow_summary_event.self)
        let summary = event.summary
        self.init(
            ifindex: event.ifindex, startNs: summary.interval_start_ns, endNs: event.header.timestamp_ns, newFlows: summary.new_flows,
            podInitiated: summary.pod_initiated, tcpSyns: summary.tcp_syns, replies: summary.replies, dropEvents: summary.drop_events,
            bytes: summary.bytes,
            remotePortsSketch: summary.remote_ports, remoteHostsSketch: summary.remote_hosts)
    }
}

/// Everything the kernel's ring buffer carries.
public enum KernelEvent: Sendable {
    case flow(FlowEvent)
    case drop(DropRecord)
    /// A pod's process connected (allowed by the cgroup hook).
    case connect(ProcessConnection)
    /// A pod's new flows past its event budget.
    case summary(FlowSummary)

    public init?(record: UnsafeRawBufferPointer) {
        if let flow = FlowEvent(record: record) {
            self = .flow(flow)
        } else if let drop = DropRecord(record: record) {
            self = .drop(drop)
        } else if let connection = ProcessConnection(record: record) {
            self = .connect(connection)
        } else if let summary = FlowSummary(record: record) {
            self = .summary(summary)
        } else {
            return nil
        }
    }
}

extension RingBufferReader where Element == KernelEvent {
    /// `records()` for the events ring, compiled for `KernelEvent` here, in
    /// the module of the reader's generic code: called from the agent's
    /// module it ran unspecialized, looking up generic metadata and copying
    /// through value witnesses for every record.
    public func kernelEvents() throws -> RecordBatches<KernelEvent> {
        try records()
    }
}
