import Foundation
import PodwallCore

/// What `podwall pcap list` shows for a capture; kept next to its pcap file
/// as `<id>.json` and rewritten while it runs.
public struct CaptureSummary: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case running, finished, failed
    }

    public var id: String
    public var alertID: String?
    public var filter: String
    public var snaplen: UInt32
    public var maxPackets: UInt64?
    public var durationSeconds: Double?
    public var started: Date
    public var ended: Date?
    public var state: State
    /// Why it ended: "stopped", "budget", "expired", "file size cap", or an error.
    public var reason: String?
    public var file: String
    public var fileBytes: Int64
    /// Packets and bytes written to the file.
    public var packets: UInt64
    public var bytes: UInt64
    /// Kernel counts: packets that matched, were skipped past the budget or
    /// expiry, or lost because the ring was full.
    public var matched: UInt64
    public var skipped: UInt64
    public var lost: UInt64
    /// Packets captured but not written because the file reached its size cap.
    public var overFileCap: UInt64
    /// Packets at the head of the file that the agent wrote, not the kernel
    /// (the packet that triggered a protocol alert, rebuilt).
    public var prelude: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case id, filter, snaplen, started, ended, state, reason, file, packets, bytes, matched, skipped, lost, prelude
        case alertID = "alert_id", maxPackets = "max_packets", durationSeconds = "duration_seconds"
        case fileBytes = "file_bytes", overFileCap = "over_file_cap"
    }

    public init(request: CaptureRequest, file: String, started: Date) {
        id = request.id
        alertID = request.alertID
        filter = request.filter.summary
        snaplen = request.snaplen
        maxPackets = request.maxPackets
        durationSeconds = request.durationSeconds
        self.started = started
        state = .running
        self.file = file
        fileBytes = 0
        packets = 0
        bytes = 0
        matched = 0
        skipped = 0
        lost = 0
        overFileCap = 0
    }

    /// Packets that matched but are not in the file.
    public var notInFile: UInt64 { skipped + lost + overFileCap }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public func jsonData() throws -> Data { try Self.encoder.encode(self) }
    public static func decode(_ data: Data) throws -> CaptureSummary { try decoder.decode(Self.self, from: data) }
}
