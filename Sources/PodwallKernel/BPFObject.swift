import CPodwallShim
import Glibc
import PodwallBPFObjects

/// A loaded BPF object: its programs and maps. Maps marked for pinning are
/// pinned under `pinRoot`, or adopted from there when a previous agent left
/// them (the kernel state survives restarts); `pinRoot == nil` loads a
/// private copy, as the BPF_PROG_TEST_RUN tests do.
public final class BPFObject: @unchecked Sendable {  // libbpf handle and ELF buffer: not changed after load
    public let name: String
    public let pinRoot: String?
    let handle: OpaquePointer
    /// libbpf reads the ELF from this buffer until load finishes.
    private let image: UnsafeMutableRawBufferPointer

    /// `sharing`: with no pin root, take the maps of the same name from that
    /// object instead of creating new ones (with a pin root, the pins do it).
    public init(
        image source: BPFObjectImage, pinRoot: String?, maxEntries: [String: UInt32] = [:],
        sharingMapsWith sharing: BPFObject? = nil
    ) throws {
        name = source.name
        self.pinRoot = pinRoot
        let bytes = source.bytes
        let image = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        bytes.withUnsafeBytes { image.copyMemory(from: $0) }
        self.image = image

        do {
            handle = try Self.openAndLoad(
                image, name: source.name, pinRoot: pinRoot, maxEntries: maxEntries,
                sharingMapsWith: sharing)
        } catch {
            image.deallocate()
            throw error
        }
    }

    /// Opens the object, sizes and shares its maps, and loads it; on failure
    /// nothing is left open. (The handle is stored only once loaded: a class
    /// whose stored properties are all set runs deinit when its init throws,
    /// and that deinit closing the handle a second time was a double free.)
    private static func openAndLoad(
        _ image: UnsafeMutableRawBufferPointer, name: String, pinRoot: String?,
        maxEntries: [String: UInt32], sharingMapsWith sharing: BPFObject?
    ) throws -> OpaquePointer {
        guard let handle = pw_shim_open_mem(image.baseAddress, image.count, name, pinRoot) else {
            throw KernelError("opening BPF object", name, errno: Glibc.errno, libbpfLog: LibbpfLog.take())
        }
        do {
            for map in mapHandles(of: handle) {
                let mapName = String(cString: bpf_map__name(map))
                if pinRoot == nil {
                    try KernelError.check(bpf_map__set_pin_path(map, nil), "unpinning map", mapName)
                }
                if let entries = maxEntries[mapName] {
                    try KernelError.check(bpf_map__set_max_entries(map, entries), "sizing map", mapName)
                }
                if pinRoot == nil, let sharing, let fd = try? sharing.mapDescriptor(named: mapName) {
                    try KernelError.check(bpf_map__reuse_fd(map, fd), "sharing map", mapName)
                }
            }
            try load(handle, name: name)
        } catch {
            bpf_object__close(handle)
            throw error
        }
        return handle
    }

    deinit {
        bpf_object__close(handle)
        image.deallocate()
    }

    private static func load(_ handle: OpaquePointer, name: String) throws {
        let result = bpf_object__load(handle)
        guard result < 0 else { return }
        let log = LibbpfLog.take()
        // A pinned map from an earlier agent with other parameters: say which.
        if let line = log.split(separator: "\n").first(where: { $0.contains("couldn't reuse pinned map") }) {
            throw KernelError(
                "adopting pinned maps (\(line.trimmingCharacters())) for", name, errno: -result, libbpfLog: log)
        }
        throw KernelError("loading BPF object", name, errno: -result, libbpfLog: log)
    }

    static func mapHandles(of handle: OpaquePointer) -> [OpaquePointer] {
        var maps: [OpaquePointer] = []
        var map = bpf_object__next_map(handle, nil)
        while let current = map {
            maps.append(current)
            map = bpf_object__next_map(handle, current)
        }
        return maps
    }

    public func program(named programName: String) throws -> BPFProgram {
        guard let program = bpf_object__find_program_by_name(handle, programName) else {
            throw KernelError("finding program", "\(programName) in \(name)", errno: ENOENT)
        }
        return BPFProgram(name: programName, fd: bpf_program__fd(program), object: self)
    }

    /// The file descriptor of a map of this object (owned by the object).
    public func mapDescriptor(named mapName: String) throws -> Int32 {
        guard let map = bpf_object__find_map_by_name(handle, mapName) else {
            throw KernelError("finding map", "\(mapName) in \(name)", errno: ENOENT)
        }
        return bpf_map__fd(map)
    }

    public func map<Key: BitwiseCopyable, Value: BitwiseCopyable>(
        named mapName: String, as _: Key.Type = Key.self, _: Value.Type = Value.self
    ) throws -> BPFMap<Key, Value> {
        BPFMap(name: mapName, fd: try mapDescriptor(named: mapName), owner: self)
    }

    public var mapNames: [String] {
        Self.mapHandles(of: handle).map { String(cString: bpf_map__name($0)) }
    }
}

public struct BPFProgram: Sendable {
    public let name: String
    public let fd: Int32
    /// The object owns `fd`: held so the fd stays open as long as this value.
    let object: BPFObject

    /// Runs and their total time, counted only while run-time statistics
    /// are on (`enableRunTimeStatistics`).
    public func runStatistics() throws -> (runs: UInt64, nanoseconds: UInt64) {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        try KernelError.check(bpf_obj_get_info_by_fd(fd, &info, &length), "reading run statistics of", name)
        return (info.run_cnt, info.run_time_ns)
    }

    /// Turns the kernel's per-program run-time statistics on until the
    /// returned descriptor is released. They cost every BPF program two
    /// clock reads per run while on, so benchmarks take them apart.
    public static func enableRunTimeStatistics() throws -> FileDescriptor {
        let fd = bpf_enable_stats(BPF_STATS_RUN_TIME)
        try KernelError.check(fd, "enabling BPF run-time statistics on", "this kernel")
        return FileDescriptor(fd)
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
}
