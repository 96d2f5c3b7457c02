import CPcapShim
import Foundation
import PodwallCore

/// A pcap file being written through libpcap: Ethernet, nanosecond timestamps.
/// Writes are buffered; `flush` puts whole records on disk.
public final class PcapFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        public var description: String { "writing \(path): \(String(cString: strerror(errno)))" }
    }

    public let path: String
    private var writer: OpaquePointer?
    private var lastTimestamp: Int64 = .min

    public init(creating path: String, snaplen: UInt32) throws {
        var message = [CChar](repeating: 0, count: 256)
        guard let writer = pw_pcap_writer_create(path, snaplen, &message, Int32(message.count)) else {
            throw CaptureError("creating \(path): \(String(nulTerminated: message))")
        }
        self.path = path
        self.writer = writer
    }

    /// Appends a packet. Timestamps never go backwards in the file: packets
    /// from several CPUs can reach the ring a few nanoseconds out of order.
    public func write(_ data: [UInt8], originalLength: UInt32, unixNanoseconds: Int64) {
        guard let writer else { return }
        let timestamp = max(unixNanoseconds, lastTimestamp)
        lastTimestamp = timestamp
        pw_pcap_writer_write(writer, data, UInt32(data.count), max(originalLength, UInt32(data.count)), timestamp)
    }

    public func flush() throws {
        guard let writer else { return }
        let result = pw_pcap_writer_flush(writer)
        if result != 0 { throw WriteError(path: path, errno: result) }
    }

    /// Bytes on disk after the last flush, plus what is buffered.
    public var size: Int64 { writer.map(pw_pcap_writer_size) ?? 0 }

    public func close() throws {
        guard let writer else { return }
        self.writer = nil
        let result = pw_pcap_writer_close(writer)
        if result != 0 { throw WriteError(path: path, errno: result) }
    }

    deinit { try? close() }
}

public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Size of a pcap record header (the file header is 24 bytes).
let pcapRecordHeaderBytes = 16
let pcapFileHeaderBytes = 24
