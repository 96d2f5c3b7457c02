import CPcapShim
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
        var message = [CChar](repeating: 0, count: 256)
        guard let reader = pw_pcap_open(path, &message, Int32(message.count)) else {
            throw CaptureError("reading \(path): \(String(nulTerminated: message))")
        }
        defer { pw_pcap_close(reader) }
        var packets: [Packet] = []
        var data: UnsafePointer<UInt8>?
        var captured: UInt32 = 0, length: UInt32 = 0, timestamp: Int64 = 0
        while true {
            let status = pw_pcap_next(reader, &data, &captured, &length, &timestamp)
            if status == 0 { break }
            guard status == 1, let data else { throw CaptureError("reading \(path): a damaged record after \(packets.count) packets") }
            packets.append(Packet(data: Array(UnsafeBufferPointer(start: data, count: Int(captured))),
                                  originalLength: length, unixNanoseconds: timestamp))
        }
        self.packets = packets
        let magic = FileHandle(forReadingAtPath: path).map { handle in
            defer { try? handle.close() }
            return Array(handle.readData(ofLength: 4))
        }
        nanosecondTimestamps = magic == [0x4d, 0x3c, 0xb2, 0xa1] || magic == [0xa1, 0xb2, 0x3c, 0x4d]
    }
}
