import PodwallABI
import PodwallCore

/// One packet from a capture ring (pw_packet_record and the bytes after it).
public struct CapturedPacket: Sendable, Equatable {
    /// CLOCK_MONOTONIC nanoseconds, as bpf_ktime_get_ns() stamped it.
    public var monotonicNanoseconds: UInt64
    public var captureID: UInt64
    public var ifindex: UInt32
    public var direction: FlowDirection
    /// The packet's length on the interface; `data` may be shorter (snaplen).
    public var originalLength: UInt32
    public var data: [UInt8]

    public init(
        monotonicNanoseconds: UInt64, captureID: UInt64, ifindex: UInt32, direction: FlowDirection,
        originalLength: UInt32, data: [UInt8]
    ) {
        self.monotonicNanoseconds = monotonicNanoseconds
        self.captureID = captureID
        self.ifindex = ifindex
        self.direction = direction
        self.originalLength = originalLength
        self.data = data
    }

    /// Decodes a ring record; nil for anything that is not a whole packet record.
    public init?(record: UnsafeRawBufferPointer) {
        let headerSize = MemoryLayout<pw_packet_record>.size
        guard record.count >= headerSize else { return nil }
        let header = record.loadUnaligned(as: pw_packet_record.self)
        let length = Int(header.cap_len)
        guard header.header.type == UInt16(PW_EVENT_PACKET.rawValue), record.count >= headerSize + length else { return nil }
        self.init(
            monotonicNanoseconds: header.header.timestamp_ns, captureID: header.capture_id, ifindex: header.ifindex,
            direction: FlowDirection(rawValue: Int(header.direction)) ?? .fromPod,
            originalLength: header.orig_len, data: Array(record[headerSize..<headerSize + length]))
    }
}
