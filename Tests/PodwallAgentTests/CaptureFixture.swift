import Foundation
import PodwallCapture
import PodwallCore

extension CaptureStore {
    /// A capture directory holding one small pcap, `pm-1`, and its summary,
    /// as an alert capture leaves them.
    static func withOnePcap(in directory: String) throws -> CaptureStore {
        let store = CaptureStore(directory: directory)
        try store.prepare()
        let file = try PcapFile(creating: store.pcapPath("pm-1"), snaplen: 64)
        file.write([1, 2, 3, 4], originalLength: 4, unixNanoseconds: 1_800_000_000_000_000_000)
        try file.close()
        try store.saveSummary(id: "pm-1", file: store.pcapPath("pm-1"))
        return store
    }

    func saveSummary(id: String, file: String) throws {
        try save(CaptureSummary(request: CaptureRequest(id: id, alertID: id, filter: CaptureFilter()), file: file, started: Date()))
    }
}
