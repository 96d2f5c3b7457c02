extension ProcessCache {
    public struct Configuration: Hashable, Sendable {
        /// How long an exited program stays for late lookups and late events
        /// (same monotonic nanoseconds as the events).
        public var graceNs: UInt64
        public var maxEntries: Int
        /// Exits of processes the cache never saw, kept for their late exec or fork.
        public var maxTombstones: Int
        /// Start times this close name one process: /proc gives whole clock
        /// ticks (10 ms at 100 Hz), the kernel's events nanoseconds.
        public var startSlackNs: UInt64
        /// Per entry, for the filename and for all arguments together, so an
        /// entry's memory is bounded whatever a pod execs.
        public var maxTextBytes: Int
        public var maxArguments: Int

        public init(
            graceNs: UInt64 = 30_000_000_000, maxEntries: Int = 65_536, maxTombstones: Int = 4_096, startSlackNs: UInt64 = 20_000_000,
            maxTextBytes: Int = 256, maxArguments: Int = 16
        ) {
            precondition(maxEntries > 0 && maxTombstones > 0, "a process cache holds at least one entry and one tombstone")
            self.graceNs = graceNs
            self.maxEntries = maxEntries
            self.maxTombstones = maxTombstones
            self.startSlackNs = startSlackNs
            self.maxTextBytes = maxTextBytes
            self.maxArguments = maxArguments
        }

        func bounded(_ text: String) -> String {
            text.utf8.count <= maxTextBytes ? text : String(decoding: text.utf8.prefix(maxTextBytes), as: UTF8.self)
        }

        /// The arguments within the budget, and whether any were cut.
        func bounded(_ arguments: [String]) -> (arguments: [String], cut: Bool) {
            var budget = maxTextBytes
            var kept: [String] = []
            for argument in arguments.prefix(maxArguments) {
                let size = argument.utf8.count
                guard size <= budget else {
                    if budget > 0 { kept.append(String(decoding: argument.utf8.prefix(budget), as: UTF8.self)) }
                    return (kept, true)
                }
                budget -= size
                kept.append(argument)
            }
            return (kept, arguments.count > maxArguments)
        }
    }
}
