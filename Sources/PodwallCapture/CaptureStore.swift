import Foundation
import PodwallCore

/// Limits on what captures may keep on disk.
public struct CaptureBudget: Sendable, Equatable {
    /// One pcap file stops growing here (its capture ends).
    public var maxFileBytes: Int64
    /// All pcap files together; the oldest finished ones are evicted first.
    public var maxTotalBytes: Int64

    public init(maxFileBytes: Int64 = 64 << 20, maxTotalBytes: Int64 = 1 << 30) {
        self.maxFileBytes = maxFileBytes
        self.maxTotalBytes = maxTotalBytes
    }
}

/// The capture directory: `<id>.pcap` with its `<id>.json` summary.
public final class CaptureStore: Sendable {
    public static let defaultDirectory = "/var/lib/podwall/captures"

    public let directory: String
    public let budget: CaptureBudget
    private let files = FileManager.default

    public init(directory: String = defaultDirectory, budget: CaptureBudget = CaptureBudget()) {
        self.directory = directory
        self.budget = budget
    }

    public func prepare() throws {
        do {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CaptureError("creating capture directory \(directory): \(error.localizedDescription)")
        }
    }

    /// Ids become file names: letters, digits, '.', '_' and '-' only.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 128 && !id.hasPrefix(".")
            && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }

    public func pcapPath(_ id: String) -> String { directory + "/" + id + ".pcap" }
    func summaryPath(_ id: String) -> String { directory + "/" + id + ".json" }

    /// Written to a temporary file and renamed, so a reader never sees half
    /// of it; on a full disk, rewritten in place (it reuses its own blocks),
    /// so the summary still says why the capture failed.
    public func save(_ summary: CaptureSummary) throws {
        let url = URL(fileURLWithPath: summaryPath(summary.id))
        do {
            let data = try summary.jsonData()
            do {
                try data.write(to: url, options: .atomic)
            } catch {
                try data.write(to: url)
            }
        } catch {
            throw CaptureError("writing \(url.path): \(error.localizedDescription)")
        }
    }

    /// Every capture in the directory, oldest first.
    public func summaries() -> [CaptureSummary] {
        let names = (try? files.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }
            .compactMap { name in
                files.contents(atPath: directory + "/" + name).flatMap { try? CaptureSummary.decode($0) }
            }
            .sorted { ($0.started, $0.id) < ($1.started, $1.id) }
    }

    public func summary(_ id: String) -> CaptureSummary? {
        guard Self.isValidID(id) else { return nil }
        return files.contents(atPath: summaryPath(id)).flatMap { try? CaptureSummary.decode($0) }
    }

    /// Bytes of all pcap files now.
    public func usage() -> Int64 {
        let names = (try? files.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".pcap") }.reduce(0) { $0 + fileSize(directory + "/" + $1) }
    }

    /// Deletes the oldest captures not in `open` until the directory fits
    /// `maxTotalBytes - reserve`; returns the ids it removed. Open files are
    /// never touched.
    @discardableResult
    public func evict(keeping open: Set<String>, reserve: Int64 = 0) -> [String] {
        var total = usage()
        var evicted: [String] = []
        for summary in summaries() where total + reserve > budget.maxTotalBytes && !open.contains(summary.id) {
            total -= fileSize(pcapPath(summary.id))
            try? files.removeItem(atPath: pcapPath(summary.id))
            try? files.removeItem(atPath: summaryPath(summary.id))
            evicted.append(summary.id)
        }
        return evicted
    }

    public func export(_ id: String, to destination: String) throws {
        guard let summary = summary(id) else { throw CaptureError("no capture '\(id)' in \(directory)") }
        do {
            if files.fileExists(atPath: destination) { try files.removeItem(atPath: destination) }
            try files.copyItem(atPath: summary.file, toPath: destination)
        } catch {
            throw CaptureError("exporting \(id) to \(destination): \(error.localizedDescription)")
        }
    }

    private func fileSize(_ path: String) -> Int64 {
        ((try? files.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
