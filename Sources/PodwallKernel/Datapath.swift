import CPodwallShim
import Glibc
import PodwallABI
import PodwallBPFObjects

/// podwall's TC data path: the loaded programs and their (pinned) maps.
public final class Datapath: Sendable {
    public struct Options: Sendable {
        /// nil loads private, unpinned maps (tests).
        public var pinRoot: String?
        public var flowEntries: UInt32
        public var eventBufferBytes: UInt32
        public var attachMode: TCAttachMode

        public init(
            pinRoot: String? = BPFFilesystem.defaultPinRoot,
            flowEntries: UInt32 = UInt32(PW_FLOWS_DEFAULT_ENTRIES),
            eventBufferBytes: UInt32 = Datapath.defaultEventBufferBytes,
            attachMode: TCAttachMode = .auto
        ) {
            self.pinRoot = pinRoot
            self.flowEntries = flowEntries
            self.eventBufferBytes = eventBufferBytes
            self.attachMode = attachMode
        }
    }

    public let object: BPFObject
    /// The cgroup socket hooks; they share every map with `object`.
    public let sockObject: BPFObject
    public let fromPod: BPFProgram
    public let toPod: BPFProgram
    public let flows: FlowTable
    public let links: LinkTable
    public let counters: PerCPUCounters
    public let eventsFD: Int32
    public let blocklist: Blocklist
    public let allowlist: AllowlistTable
    public let policy: PolicyGeneration
    public let quarantine: QuarantineTable
    public let captures: CaptureTable
    // The raw maps stay in this module (and its tests): the rest of podwall
    // sees the tables above.
    let flowMap: BPFMap<pw_flow_key, pw_flow_value>
    public static let defaultEventBufferBytes = UInt32(PW_EVENTS_DEFAULT_BYTES)
    let linkMap: BPFMap<UInt32, pw_link>
    let allowMap: BPFMap<pw_lpm_key, UInt64>
    let quarantineMap: BPFMap<UInt32, pw_quarantine>
    /// Whether pod interfaces get TCX links (else clsact filters).
    public let usesTCX: Bool
    /// What the kernel offered when this data path was loaded.
    public let features: KernelFeatures
    private let options: Options

    public convenience init(options: Options = Options()) throws {
        let features = KernelFeatures.probe()
        try features.checkRequired()
        // A first load that fails leaves nothing behind; pins an earlier
        // agent left are enforcement in force and stay whatever happens.
        let freshPinRoot = options.pinRoot.map { !BPFFilesystem.exists($0) } ?? false
        let object: BPFObject, sockObject: BPFObject
        do {
            if let pinRoot = options.pinRoot {
                try BPFFilesystem.prepare(pinRoot: pinRoot)
            }
            let sizes = [PW_MAP_FLOWS_NAME: options.flowEntries, PW_MAP_EVENTS_NAME: options.eventBufferBytes]
            object = try BPFObject(image: features.datapathImage, pinRoot: options.pinRoot, maxEntries: sizes)
            // Sized alike: with a pin root, libbpf refuses to reuse a pin whose size differs.
            sockObject = try BPFObject(image: .sock, pinRoot: options.pinRoot, maxEntries: sizes, sharingMapsWith: object)
        } catch {
            if freshPinRoot, let pinRoot = options.pinRoot {
                BPFFilesystem.removePins(under: pinRoot)
            }
            throw error
        }
        try self.init(loaded: object, sockObject, features: features, options: options)
    }

    /// The tables over objects already loaded.
    private init(loaded object: BPFObject, _ sockObject: BPFObject, features: KernelFeatures, options: Options) throws {
        self.object = object
        self.sockObject = sockObject
        self.features = features
        self.options = options
        fromPod = try object.program(named: PW_PROG_FROM_POD_NAME)
        toPod = try object.program(named: PW_PROG_TO_POD_NAME)
        usesTCX = try options.attachMode.usesTCX(pinRoot: options.pinRoot, probingWith: fromPod)
        flowMap = try object.map(named: PW_MAP_FLOWS_NAME)
        flows = FlowTable(map: flowMap)
        linkMap = try object.map(named: PW_MAP_LINKS_NAME)
        links = LinkTable(map: linkMap)
        counters = PerCPUCounters(fd: try object.mapDescriptor(named: PW_MAP_COUNTERS_NAME), owner: object)
        eventsFD = try object.mapDescriptor(named: PW_MAP_EVENTS_NAME)
        policy = PolicyGeneration(config: try object.map(named: PW_MAP_CONFIG_NAME))
        try policy.start()
        blocklist = Blocklist(
            hosts: try object.map(named: PW_MAP_BLOCK_HOSTS_NAME), nets: try object.map(named: PW_MAP_BLOCK_NETS_NAME),
            feeds: try object.map(named: PW_MAP_FEEDS_NAME), policy: policy)
        allowMap = try object.map(named: PW_MAP_ALLOW_NETS_NAME)
        allowlist = AllowlistTable(map: allowMap, policy: policy)
        quarantineMap = try object.map(named: PW_MAP_QUARANTINE_NAME)
        quarantine = QuarantineTable(map: quarantineMap)
        captures = CaptureTable(
            captures: try object.map(named: PW_MAP_CAPTURES_NAME), rings: try object.map(named: PW_MAP_CAPTURE_RINGS_NAME),
            on: try object.map(named: PW_MAP_CAPTURE_ON_NAME), lockDirectory: options.pinRoot)
    }

    /// Tests: the maps as they are now, for `restored(to:)`.
    func snapshot() throws -> MapSnapshot {
        try MapSnapshot(of: [object, sockObject])
    }

    /// Tests: this data path's verified programs with every map put back to
    /// `snapshot`, and new tables over them (theirs hold state of their own).
    func restored(to snapshot: MapSnapshot) throws -> Datapath {
        try snapshot.restore()
        return try Datapath(loaded: object, sockObject, features: features, options: options)
    }

    /// Attaches connect4/6 and sendmsg4/6 to the pods' cgroup (links pinned
    /// under the pin root; needs one).
    public func attachCgroupHooks(cgroupPath: String) throws {
        guard let pinRoot = object.pinRoot else {
            throw KernelError("attaching cgroup hooks without a pin root to", cgroupPath, errno: EINVAL)
        }
        try CgroupHooks.attach(sockObject, cgroupPath: cgroupPath, pinRoot: pinRoot)
    }
}

/// Kernel monotonic time, the clock bpf_ktime_get_ns() uses.
public enum MonotonicClock {
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Nanoseconds to add to a monotonic timestamp to get Unix time.
    public static func wallClockOffset() -> Int64 {
        var real = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        let realNow = Int64(real.tv_sec) * 1_000_000_000 + Int64(real.tv_nsec)
        return realNow - Int64(now())
    }
}
