import PodwallABI

/// The process programs' per-CPU counters (enum pw_process_counter).
public struct ProcessCounters: Sendable {
    let counters: PerCPUCounters

    public var execs: UInt64 { value(PW_PCNT_EXECS) }
    public var forks: UInt64 { value(PW_PCNT_FORKS) }
    public var exits: UInt64 { value(PW_PCNT_EXITS) }
    /// Events lost because the process ring was full.
    public var ringBufferDrops: UInt64 { value(PW_PCNT_RINGBUF_DROPS) }
    public var kills: UInt64 { value(PW_PCNT_KILLS) }
    public var readErrors: UInt64 { value(PW_PCNT_READ_ERRORS) }
    /// File operations on watched paths (or unresolved ones), and breakout syscalls, in pods.
    public var fileEvents: UInt64 { value(PW_PCNT_FILE_EVENTS) }
    public var breakouts: UInt64 { value(PW_PCNT_BREAKOUTS) }

    public func value(_ counter: pw_process_counter) -> UInt64 { counters.value(at: counter.rawValue) }

    /// Every counter by its metric-style name.
    public func snapshot() -> [(name: String, value: UInt64)] {
        Self.names.map { ($0.1, value($0.0)) }
    }

    public static let names: [(pw_process_counter, String)] = [
        (PW_PCNT_EXECS, "execs"), (PW_PCNT_FORKS, "forks"), (PW_PCNT_EXITS, "exits"),
        (PW_PCNT_RINGBUF_DROPS, "ringbuf_drops"), (PW_PCNT_KILLS, "kills"), (PW_PCNT_READ_ERRORS, "read_errors"),
        (PW_PCNT_FILE_EVENTS, "file_events"), (PW_PCNT_BREAKOUTS, "breakouts")
    ]
}
