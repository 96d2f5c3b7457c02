import CPodwallShim
import Foundation
import Glibc
import PodwallABI
import PodwallCore
import Synchronization

/// The kernel's capture slots (pw_captures, pw_capture_rings, pw_capture_on).
///
/// The agent and `podwall capture` may both start captures on the same
/// pinned maps, so claiming a slot and recomputing the live-slot mask happen
/// under an flock on the pin directory. Each capture owns a ring buffer of its
/// own, created here and referenced from its slot.
public final class CaptureTable: Sendable {
    /// The most bytes of a packet a capture can keep.
    public static let maxSnaplen = UInt32(PW_CAPTURE_MAX_SNAPLEN)

    let captures: BPFMap<UInt32, pw_capture>
    let rings: BPFMap<UInt32, UInt32>
    let on: BPFMap<UInt32, pw_capture_on>
    /// Directory to flock; nil for private maps (tests): an in-process lock suffices.
    private let lockDirectory: String?
    /// Guards no state: it makes this process's callers take the flock one at a time.
    private let processLock = Mutex(())

    public init(
        captures: BPFMap<UInt32, pw_capture>, rings: BPFMap<UInt32, UInt32>, on: BPFMap<UInt32, pw_capture_on>,
        lockDirectory: String?
    ) {
        self.captures = captures
        self.rings = rings
        self.on = on
        self.lockDirectory = lockDirectory
    }

    /// Starts a capture in a free slot. Slots of owners that died are reclaimed.
    public func start(_ request: CaptureRequest, monotonicNow: UInt64 = MonotonicClock.now()) throws -> KernelCapture {
        guard (1...UInt32(PW_CAPTURE_MAX_SNAPLEN)).contains(request.snaplen) else {
            throw KernelError(
                "starting capture with snaplen \(request.snaplen) (1...\(PW_CAPTURE_MAX_SNAPLEN))",
                request.id, errno: EINVAL)
        }
        let ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "pw_capture_ring", 0, 0, UInt32(PW_CAPTURE_RING_BYTES), nil)
        guard ring >= 0 else { throw KernelError("creating the capture ring buffer for", request.id, errno: -ring) }
        let ringDescriptor = FileDescriptor(ring)
        return try locked {
            guard let slot = try (0..<UInt32(PW_CAPTURE_SLOTS)).first(where: isFree) else {
                throw KernelError(
                    "starting capture (all \(PW_CAPTURE_SLOTS) capture slots are busy; stop one first)",
                    request.id, errno: EBUSY)
            }
            var capture = pw_capture(request, monotonicNow: monotonicNow)
            capture.owner_pid = UInt32(getpid())
            try captures.update(slot, capture)
            try rings.update(slot, UInt32(ring))
            try publishLiveSlots()
            return KernelCapture(table: self, slot: slot, id: capture.id, ring: ringDescriptor)
        }
    }

    /// Captures running now, by slot (including other processes').
    public func running() throws -> [(slot: UInt32, capture: pw_capture)] {
        try (0..<UInt32(PW_CAPTURE_SLOTS)).compactMap { slot in
            try rings.lookup(slot) == nil ? nil : try captures.lookup(slot).map { (slot, $0) }
        }
    }

    func stop(slot: UInt32) throws -> pw_capture? {
        try locked {
            _ = try rings.delete(slot)
            try publishLiveSlots()
            return try captures.lookup(slot)
        }
    }

    func counters(slot: UInt32) throws -> pw_capture? { try captures.lookup(slot) }

    /// A slot is free when no ring is in it, or its owner process is gone.
    private func isFree(_ slot: UInt32) throws -> Bool {
        guard try rings.lookup(slot) != nil else { return true }
        guard let owner = try captures.lookup(slot)?.owner_pid, owner != 0 else { return true }
        return kill(pid_t(owner), 0) != 0 && errno == ESRCH
    }

    private func publishLiveSlots() throws {
        var mask: UInt32 = 0
        for slot in 0..<UInt32(PW_CAPTURE_SLOTS) where try rings.lookup(slot) != nil {
            mask |= 1 << slot
        }
        try on.update(0, pw_capture_on(slots: mask, pad: 0))
    }

    private func locked<T: Sendable>(_ body: () throws -> T) throws -> T {
        try processLock.withLock { _ in
            guard let lockDirectory else { return try body() }
            let fd = open(lockDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw KernelError("opening the pin directory to lock capture slots", lockDirectory, errno: errno) }
            defer { close(fd) }
            guard flock(fd, LOCK_EX) == 0 else { throw KernelError("locking capture slots in", lockDirectory, errno: errno) }
            return try body()
        }
    }
}

/// One running capture: its slot and its own ring buffer. Stop it when
/// done; the kernel also stops delivering at its budget or expiry.
public final class KernelCapture: Sendable {
    public let slot: UInt32
    public let id: UInt64
    private let table: CaptureTable
    private let ring: FileDescriptor
    private let stopped = AtomicFlag()

    init(table: CaptureTable, slot: UInt32, id: UInt64, ring: FileDescriptor) {
        self.table = table
        self.slot = slot
        self.id = id
        self.ring = ring
    }

    /// The ring buffer the kernel writes this capture's packets to.
    public var ringFD: Int32 { ring.fd }

    public var counters: CaptureCounters {
        ((try? table.counters(slot: slot)) ?? nil).map(CaptureCounters.init) ?? CaptureCounters()
    }

    /// Frees the slot and returns the final counters.
    @discardableResult
    public func stop() throws -> CaptureCounters {
        guard !stopped.isSet else { return counters }
        stopped.set()
        return try table.stop(slot: slot).map(CaptureCounters.init) ?? CaptureCounters()
    }

    deinit { _ = try? stop() }
}

/// What the kernel counted for one capture. matched = captured + skipped + lost.
public struct CaptureCounters: Sendable, Equatable {
    public var matched: UInt64 = 0
    public var captured: UInt64 = 0
    public var capturedBytes: UInt64 = 0
    /// Matched after the packet budget ran out or the capture expired.
    public var skipped: UInt64 = 0
    /// Not delivered: the capture's ring buffer was full.
    public var lost: UInt64 = 0

    public init() {}

    init(_ capture: pw_capture) {
        matched = capture.matched
        captured = capture.captured
        capturedBytes = capture.captured_bytes
        skipped = capture.skipped
        lost = capture.lost
    }
}

extension pw_capture {
    init(_ request: CaptureRequest, monotonicNow: UInt64) {
        self.init()
        filter = pw_capture_filter(request.filter)
        id = CaptureID.number(request.id)
        snaplen = request.snaplen
        max_packets = request.maxPackets ?? 0
        expires_ns = request.durationSeconds.map { monotonicNow + UInt64(max(0, $0) * 1e9) } ?? 0
    }
}

extension pw_capture_filter {
    init(_ filter: CaptureFilter) {
        self.init()
        ifindex = filter.ifindex ?? 0
        pod_port = filter.podPort ?? 0
        remote_port = filter.remotePort ?? 0
        proto = filter.proto?.rawValue ?? 0
        if let pod = filter.pod {
            pod.address.store(into: &pod_net)
            IPAddress.mask(mappedLength: pod.mappedPrefixLength).store(into: &pod_mask)
        }
        if let remote = filter.remote {
            remote.address.store(into: &remote_net)
            IPAddress.mask(mappedLength: remote.mappedPrefixLength).store(into: &remote_mask)
        }
    }
}

extension IPAddress {
    /// The netmask of a prefix length in the mapped (128-bit) space.
    static func mask(mappedLength: Int) -> IPAddress {
        let high: UInt64 = mappedLength >= 64 ? .max : mappedLength == 0 ? 0 : ~0 << (64 - mappedLength)
        let low: UInt64 = mappedLength >= 128 ? .max : mappedLength <= 64 ? 0 : ~0 << (128 - mappedLength)
        return IPAddress(high: high, low: low)
    }
}

/// The 64-bit number a capture's records carry: FNV-1a of its id.
public enum CaptureID {
    public static func number(_ id: String) -> UInt64 {
        id.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
