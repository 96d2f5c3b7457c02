/// What one process cache entry costs, for the agent's memory gauge: the
/// sizes Swift gives the tables, plus the entry's strings' own allocations.
/// (Tombstones are apart: at most `maxTombstones`, ~100 bytes each.)
///
/// Per entry:
/// - its slot in `slots`: key + value strides, times 4/3 (native
///   dictionaries grow at 3/4 full);
/// - its pid's row in `programsByPid` (one program per pid is typical) and
///   that row's array allocation;
/// - its stamps in the insertion and exit queues, each up to twice over
///   before compaction: 4 stamps;
/// - text: strings of up to 15 UTF-8 bytes live inline; longer ones take a
///   32-byte header plus their bytes and a NUL, rounded to malloc's 16.
enum ProcessCacheMemory {
    static var fixedBytesPerEntry: Int {
        let slot = table(key: MemoryLayout<ExecID>.stride, value: MemoryLayout<ProcessCache.Slot>.stride)
        let pidRow = table(key: MemoryLayout<UInt32>.stride, value: MemoryLayout<[ExecID]>.stride) + array(1, of: ExecID.self)
        return slot + pidRow + 4 * MemoryLayout<ArrivalQueue<ExecID>.Stamp>.stride
    }

    /// A typical program: a 24-byte filename, four arguments of which one
    /// is longer than 15 bytes (40), the comm inline.
    static var typicalBytesPerEntry: Int {
        fixedBytesPerEntry + string(24) + array(4, of: String.self) + string(40)
    }

    /// The text budget fully spent: a filename of `maxTextBytes`, and
    /// `maxArguments` arguments sharing another `maxTextBytes`, each on the heap.
    static func worstCaseBytesPerEntry(_ configuration: ProcessCache.Configuration) -> Int {
        let arguments = max(configuration.maxArguments, 1)
        let perArgument = configuration.maxTextBytes / arguments
        return fixedBytesPerEntry + string(configuration.maxTextBytes) + array(arguments, of: String.self) + arguments
            * malloc(32 + perArgument + 1)
    }

    private static func table(key: Int, value: Int) -> Int { (key + value) * 4 / 3 }
    private static func string(_ bytes: Int) -> Int { bytes <= 15 ? 0 : malloc(32 + bytes + 1) }
    private static func array<Element>(_ count: Int, of _: Element.Type) -> Int { malloc(32 + count * MemoryLayout<Element>.stride) }
    private static func malloc(_ bytes: Int) -> Int { (bytes + 15) / 16 * 16 }
}
