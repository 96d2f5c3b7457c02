/// Rough memory held by detector tables, from capacities and element strides (not a heap
/// measurement: allocator overhead and spare capacity in nested tables are not seen).
public struct MemoryEstimate: Sendable, Equatable {
    /// Tables keyed by flow: egress counters, protocol verdicts, pending probes.
    public var flowBytes = 0
    /// Tables keyed by pod (or pod and remote): scan state and contacts, volume baselines.
    public var sourceBytes = 0
    public var trackedFlows = 0
    public var trackedSources = 0

    public init(flowBytes: Int = 0, sourceBytes: Int = 0, trackedFlows: Int = 0, trackedSources: Int = 0) {
        self.flowBytes = flowBytes
        self.sourceBytes = sourceBytes
        self.trackedFlows = trackedFlows
        self.trackedSources = trackedSources
    }

    public var bytes: Int { flowBytes + sourceBytes }

    public static func + (lhs: MemoryEstimate, rhs: MemoryEstimate) -> MemoryEstimate {
        MemoryEstimate(
            flowBytes: lhs.flowBytes + rhs.flowBytes, sourceBytes: lhs.sourceBytes + rhs.sourceBytes,
            trackedFlows: lhs.trackedFlows + rhs.trackedFlows, trackedSources: lhs.trackedSources + rhs.trackedSources)
    }
}

/// Heap bytes of a Swift dictionary or set: buckets (capacity / 0.75) times the element stride.
func tableBytes<Key, Value>(_ table: [Key: Value]) -> Int {
    table.capacity * 4 / 3 * (MemoryLayout<Key>.stride + MemoryLayout<Value>.stride)
}

func tableBytes<Element>(_ table: Set<Element>) -> Int {
    table.capacity * 4 / 3 * MemoryLayout<Element>.stride
}
