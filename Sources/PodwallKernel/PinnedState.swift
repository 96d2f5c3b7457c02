import Glibc
import PodwallABI

/// podwall's pinned maps, opened by path: what `podwall flows` and
/// `podwall uninstall` work on whether or not the agent runs.
public struct PinnedState: Sendable {
    public let pinRoot: String

    public init(pinRoot: String = BPFFilesystem.defaultPinRoot) {
        self.pinRoot = pinRoot
    }

    func path(_ map: String) -> String { pinRoot + "/" + map }

    public func flows() throws -> FlowTable {
        FlowTable(map: try BPFMap.pinned(at: path(PW_MAP_FLOWS_NAME)))
    }

    public func links() throws -> LinkTable {
        LinkTable(map: try BPFMap.pinned(at: path(PW_MAP_LINKS_NAME)))
    }

    public func counters() throws -> PerCPUCounters {
        try PerCPUCounters.pinned(at: path(PW_MAP_COUNTERS_NAME))
    }

    /// The process programs' counters; nil when the process pillar never ran on these pins.
    public func processCounters() -> ProcessCounters? {
        (try? PerCPUCounters.pinned(at: path(PW_MAP_PROCESS_COUNTERS_NAME))).map(ProcessCounters.init)
    }

    /// Whether the exec, fork and exit programs are attached (their pinned links).
    public var watchesProcesses: Bool {
        access(path("link_" + PW_PROG_EXEC_NAME), F_OK) == 0
    }

    public func blocklist() throws -> Blocklist {
        Blocklist(
            hosts: try BPFMap.pinned(at: path(PW_MAP_BLOCK_HOSTS_NAME)),
            nets: try BPFMap.pinned(at: path(PW_MAP_BLOCK_NETS_NAME)),
            feeds: try BPFMap.pinned(at: path(PW_MAP_FEEDS_NAME)),
            policy: try policy())
    }

    public func policy() throws -> PolicyGeneration {
        PolicyGeneration(config: try BPFMap.pinned(at: path(PW_MAP_CONFIG_NAME)))
    }

    public func allowlist() throws -> AllowlistTable {
        AllowlistTable(map: try BPFMap.pinned(at: path(PW_MAP_ALLOW_NETS_NAME)), policy: try policy())
    }

    public func quarantine() throws -> QuarantineTable {
        QuarantineTable(map: try BPFMap.pinned(at: path(PW_MAP_QUARANTINE_NAME)))
    }

    public func captures() throws -> CaptureTable {
        CaptureTable(
            captures: try BPFMap.pinned(at: path(PW_MAP_CAPTURES_NAME)),
            rings: try BPFMap.pinned(at: path(PW_MAP_CAPTURE_RINGS_NAME)),
            on: try BPFMap.pinned(at: path(PW_MAP_CAPTURE_ON_NAME)), lockDirectory: pinRoot)
    }

    public var isInstalled: Bool { BPFFilesystem.exists(path(PW_MAP_FLOWS_NAME)) }
}

/// What `podwall uninstall` removed.
public struct UninstallReport: Sendable {
    public var links: [String] = []
    public var filters: [String] = []
    public var qdiscs: [String] = []
    public var pins: [String] = []
}

public enum Uninstaller {
    /// Removes podwall's TCX links and filters from every interface of this
    /// namespace, the clsact qdiscs podwall created (if nothing else uses
    /// them), and the pins.
    public static func uninstall(pinRoot: String) throws -> UninstallReport {
        var report = UninstallReport()
        let created = Set(
            ((try? PinnedState(pinRoot: pinRoot).links())?.entries() ?? [:])
                .filter { $0.value.flags.contains(.qdiscCreated) }.keys)
        let names = try LinkWatcher.namesByIndex()
        report.links = TCXLinks.detachAll(under: pinRoot).map { link in
            "\(link.ifindex.flatMap { names[$0] } ?? "(interface gone)") \(link.hook.rawValue)"
        }
        for link in try LinkWatcher.currentLinks() {
            let removed = try TrafficControl.removeFilters(from: link, qdiscCreatedByPodwall: created.contains(link.index))
            report.filters += removed.hooks.map { "\(link.name) \($0.rawValue)" }
            if removed.qdiscRemoved { report.qdiscs.append(link.name) }
        }
        report.pins = BPFFilesystem.removePins(under: pinRoot)
        return report
    }
}
