import Foundation
import PodwallCore

/// A whole pcap file read through libpcap (for `podwall` tools and tests;
/// replay streams instead).
public struct PcapContents: Sendable {
    public struct Packet: Sendable, Equatable {
        public var data: [UInt8]
        public var originalLength: UInt32
        public var unixNanoseconds: Int64
    }

    public var packets: [Packet]
    /// The file's magic says nanosecond timestamps.
    public var nanosecondTimestamps: Bool

    public init(path: String) throws {
        var packets: [Packet] = []
        do {
            try PcapPackets.forEach(path) { packet, _ in
                packets.append(
                    Packet(
                        data: Array(packet.bytes), originalLength: UInt32(packet.wireLength),
                        unixNanoseconds: packet.timestampNs))
            }
        } catch let failure as PcapPackets.Failure {
            throw CaptureError(failure.description)
        }
        self.packets = packets
        let magic = FileHandle(forReadingAtPath: path).map { handle in
            defer { try? handle.close() }
            return Array(handle.readData(ofLength: 4))
        }
        nanosecondTimestamps = magic == [0x4d, 0x3c, 0xb2, 0xa1] || magic == [0xa1, 0xb2, 0x3c, 0x4d]
    }
}
