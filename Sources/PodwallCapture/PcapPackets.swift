import CPcapShim
import PodwallCore

/// The packets of a pcap or pcapng file, read through libpcap: what
/// `podwall replay` and the evaluation's receiver tap both read.
public enum PcapPackets {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// One packet: its captured bytes (valid only during the call), its
    /// length on the wire and its nanosecond timestamp.
    public struct Packet {
        public let bytes: UnsafeRawBufferPointer
        public let wireLength: Int
        public let timestampNs: Int64
    }

    /// Calls `body` for every packet of `path`, with the file's link type.
    /// Returns how many packets there were.
    @discardableResult
    public static func forEach(_ path: String, _ body: (Packet, LinkType) throws -> Void) throws -> Int {
        var message = [CChar](repeating: 0, count: 512)
        guard let reader = pw_pcap_open(path, &message, Int32(message.count)) else {
            throw Failure(description: "cannot read \(path): \(String(nulTerminated: message))")
        }
        defer { pw_pcap_close(reader) }
        let datalink = pw_pcap_datalink(reader)
        // DLT_RAW is 12 or 14 depending on the platform's libpcap.
        guard let linkType = LinkType(rawValue: datalink == 12 || datalink == 14 ? LinkType.raw.rawValue : datalink) else {
            throw Failure(description: "\(path): link type \(datalink) is not supported (Ethernet, Linux cooked or raw IP)")
        }
        var count = 0
        var data: UnsafePointer<UInt8>?
        var captured: UInt32 = 0, length: UInt32 = 0
        var timestamp: Int64 = 0
        while true {
            let status = pw_pcap_next(reader, &data, &captured, &length, &timestamp)
            if status == 0 { return count }
            guard status == 1, let data else { throw Failure(description: "\(path): read error after \(count) packets") }
            count += 1
            try body(
                Packet(
                    bytes: UnsafeRawBufferPointer(start: data, count: Int(captured)), wireLength: Int(length),
                    timestampNs: timestamp), linkType)
        }
    }
}
