import Foundation
import PodwallCapture
import PodwallCore
import Testing

/// pcap files and the capture directory, without root.
@Suite struct CaptureFileTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "podwall-capture-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

    static func read(_ path: String) throws -> (nanosecondFile: Bool, packets: [([UInt8], UInt32, Int64)]) {
        let contents = try PcapContents(path: path)
        return (contents.nanosecondTimestamps, contents.packets.map { ($0.data, $0.originalLength, $0.unixNanoseconds) })
    }

    @Test func packetsRoundTripWithNanosecondTimestampsThatNeverGoBack() throws {
        defer { cleanUp() }
        let path = directory + "/a.pcap"
        let file = try PcapFile(creating: path, snaplen: 256)
        file.write([1, 2, 3], originalLength: 1500, unixNanoseconds: 1_700_000_000_123_456_789)
        file.write([4, 5], originalLength: 2, unixNanoseconds: 1_700_000_000_123_456_700)  // a few ns early
        try file.flush()
        let flushed = try Self.read(path)
        #expect(flushed.packets.count == 2, "a flushed file is complete while still open")
        try file.close()
        let (nanosecondFile, packets) = try Self.read(path)
        #expect(nanosecondFile, "the nanosecond pcap magic")
        #expect(packets.map(\.0) == [[1, 2, 3], [4, 5]])
        #expect(packets.map(\.1) == [1500, 2])
        #expect(packets.map(\.2) == [1_700_000_000_123_456_789, 1_700_000_000_123_456_789])
    }

    @Test func anExistingFileIsNeverOverwritten() throws {
        defer { cleanUp() }
        let path = directory + "/b.pcap"
        _ = FileManager.default.createFile(atPath: path, contents: Data([9]))
        #expect(throws: CaptureError.self) { try PcapFile(creating: path, snaplen: 64) }
        #expect(FileManager.default.contents(atPath: path) == Data([9]))
    }

    func finished(_ store: CaptureStore, _ id: String, bytes: Int, started: TimeInterval) throws {
        _ = FileManager.default.createFile(atPath: store.pcapPath(id), contents: Data(count: bytes))
        var summary = CaptureSummary(
            request: CaptureRequest(id: id, filter: CaptureFilter()), file: store.pcapPath(id),
            started: Date(timeIntervalSince1970: started))
        summary.state = .finished
        try store.save(summary)
    }

    @Test func theOldestFinishedCapturesAreEvictedNeverAnOpenOne() throws {
        defer { cleanUp() }
        let store = CaptureStore(directory: directory, budget: CaptureBudget(maxFileBytes: 1000, maxTotalBytes: 2500))
        try finished(store, "open", bytes: 1000, started: 1)
        try finished(store, "old", bytes: 1000, started: 2)
        try finished(store, "new", bytes: 1000, started: 3)
        #expect(store.evict(keeping: ["open"]) == ["old"])
        #expect(store.summaries().map(\.id) == ["open", "new"])
        #expect(store.usage() == 2000)
        #expect(store.evict(keeping: ["open"], reserve: 1000) == ["new"], "room for one more file")
        #expect(store.evict(keeping: ["open"], reserve: 5000).isEmpty, "the open file stays even over budget")
        #expect(FileManager.default.fileExists(atPath: store.pcapPath("open")))
    }

    @Test func exportCopiesAndUnknownIdsAreClearErrors() throws {
        defer { cleanUp() }
        let store = CaptureStore(directory: directory)
        try finished(store, "x1", bytes: 10, started: 1)
        try store.export("x1", to: directory + "/out.pcap")
        #expect(FileManager.default.contents(atPath: directory + "/out.pcap")?.count == 10)
        #expect(throws: CaptureError.self) { try store.export("nope", to: directory + "/n.pcap") }
        #expect(throws: CaptureError.self) { try store.export("../x1", to: directory + "/n.pcap") }
    }

    @Test func idsAreSafeFileNames() {
        #expect(CaptureStore.isValidID("ps-7f3a9c01"))
        #expect(CaptureStore.isValidID("cap_20261125.1"))
        for bad in ["", "../etc", ".hidden", "a/b", "a b", String(repeating: "x", count: 200)] {
            #expect(!CaptureStore.isValidID(bad), "\(bad)")
        }
    }

    @Test func summariesRoundTripAsJSON() throws {
        var summary = CaptureSummary(
            request: CaptureRequest(id: "s", alertID: "pm-1", filter: CaptureFilter(proto: .tcp), maxPackets: 5),
            file: "/x/s.pcap", started: Date(timeIntervalSince1970: 1_800_000_000))
        summary.lost = 3
        let text = String(decoding: try summary.jsonData(), as: UTF8.self)
        #expect(text.contains("\"alert_id\" : \"pm-1\"") && text.contains("\"lost\" : 3"))
        #expect(try CaptureSummary.decode(summary.jsonData()) == summary)
    }
}
