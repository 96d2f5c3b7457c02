import CPodwallShim
import Glibc

/// What every map of some loaded objects holds, to put back later. The
/// BPF_PROG_TEST_RUN tests pay the verifier once per suite and start each
/// test from the maps as that load left them: one load of the compat data
/// path takes 33 s on the kernel matrix's emulated 5.10, where a load per
/// test took its guest past the time CI gives it.
struct MapSnapshot: @unchecked Sendable {  // descriptors owned by `owners`, never changed
    private struct Map {
        let name: String
        let fd: Int32
        let type: bpf_map_type
        let keySize: Int
        /// Per CPU for per-CPU maps, as the syscalls read and write it.
        let valueSize: Int
        var entries: [(key: [UInt8], value: [UInt8])] = []

        var contents: [[UInt8]: [UInt8]] {
            Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
    }

    private let maps: [Map]
    /// Keep the maps' descriptors open.
    private let owners: [BPFObject]

    /// Reads every writable map of `objects` (maps they share, once).
    init(of objects: [BPFObject]) throws {
        var maps: [Map] = []
        var seen: Set<UInt32> = []
        for object in objects {
            for map in BPFObject.mapHandles(of: object.handle) {
                let name = String(cString: bpf_map__name(map))
                let fd = bpf_map__fd(map)
                var info = bpf_map_info()
                var length = UInt32(MemoryLayout<bpf_map_info>.size)
                try KernelError.check(bpf_obj_get_info_by_fd(fd, &info, &length), "reading info of map", name)
                // .rodata and .kconfig are frozen: nothing a test can change.
                guard seen.insert(info.id).inserted, info.map_flags & UInt32(BPF_F_RDONLY_PROG) == 0 else { continue }
                let type = bpf_map_type(info.type)
                let cpus = Self.isPerCPU(type) ? Int(libbpf_num_possible_cpus()) : 1
                let valueSize = cpus > 1 ? (Int(info.value_size) + 7) / 8 * 8 * cpus : Int(info.value_size)
                var snapshot = Map(name: name, fd: fd, type: type, keySize: Int(info.key_size), valueSize: valueSize)
                snapshot.entries = try Self.read(snapshot)
                maps.append(snapshot)
            }
        }
        self.maps = maps
        owners = objects
    }

    /// Puts every map back as it was read; records left in ring buffers are consumed.
    func restore() throws {
        for map in maps {
            switch map.type {
            case BPF_MAP_TYPE_RINGBUF:
                try RingBufferPoller(mapFD: map.fd).consume { _ in }
            case BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY:
                for entry in map.entries { try Self.write(entry, to: map) }
            case BPF_MAP_TYPE_ARRAY_OF_MAPS:
                for key in try Self.keys(of: map) {  // every index: empty slots are ENOENT
                    let result = bpf_map_delete_elem(map.fd, key)
                    guard result == 0 || result == -ENOENT else {
                        throw KernelError("emptying map", map.name, errno: -result)
                    }
                }
            case BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH:
                try Self.emptyInBatches(map)  // a test may leave half a million blocklist entries
                for entry in map.entries { try Self.write(entry, to: map) }
            default:  // other keyed maps (LPM tries): a key at a time
                for key in try Self.keys(of: map) {
                    try KernelError.check(bpf_map_delete_elem(map.fd, key), "emptying map", map.name)
                }
                for entry in map.entries { try Self.write(entry, to: map) }
            }
        }
    }

    /// The maps whose entries differ between the two snapshots.
    func differingMaps(from other: MapSnapshot) -> [String] {
        let theirs = Dictionary(other.maps.map { ($0.name, $0.contents) }, uniquingKeysWith: { first, _ in first })
        return maps.filter { theirs[$0.name] != $0.contents }.map(\.name)
    }

    private static func isPerCPU(_ type: bpf_map_type) -> Bool {
        type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH
    }

    private static func read(_ map: Map) throws -> [(key: [UInt8], value: [UInt8])] {
        switch map.type {
        case BPF_MAP_TYPE_RINGBUF:
            return []
        case BPF_MAP_TYPE_ARRAY_OF_MAPS:
            // Inner maps cannot be written back by id: only empty slots can be restored.
            var id: UInt32 = 0
            guard try keys(of: map).allSatisfy({ bpf_map_lookup_elem(map.fd, $0, &id) == -ENOENT }) else {
                throw KernelError("snapshotting map (it holds inner maps)", map.name, errno: EEXIST)
            }
            return []
        default:
            return try keys(of: map).map { key in
                var value = [UInt8](repeating: 0, count: map.valueSize)
                try KernelError.check(bpf_map_lookup_elem(map.fd, key, &value), "reading map", map.name)
                return (key, value)
            }
        }
    }

    /// Every key, collected before anything is deleted.
    private static func keys(of map: Map) throws -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var next = [UInt8](repeating: 0, count: map.keySize)
        var result = bpf_map_get_next_key(map.fd, nil, &next)
        while result == 0 {
            keys.append(next)
            result = bpf_map_get_next_key(map.fd, keys[keys.count - 1], &next)
        }
        guard result == -ENOENT else { throw KernelError("listing keys of map", map.name, errno: -result) }
        return keys
    }

    /// Deletes every entry a few thousand per syscall. Each call starts
    /// from the first bucket again: those before are empty by then.
    private static func emptyInBatches(_ map: Map, chunk: Int = 4096) throws {
        var keys = [UInt8](repeating: 0, count: map.keySize * chunk)
        var values = [UInt8](repeating: 0, count: map.valueSize * chunk)
        var next: UInt64 = 0
        while true {
            var count = UInt32(chunk)
            let result = bpf_map_lookup_and_delete_batch(map.fd, nil, &next, &keys, &values, &count, nil)
            if result == -ENOENT { return }
            try KernelError.check(result, "emptying map", map.name)
        }
    }

    private static func write(_ entry: (key: [UInt8], value: [UInt8]), to map: Map) throws {
        try KernelError.check(bpf_map_update_elem(map.fd, entry.key, entry.value, 0), "restoring map", map.name)
    }
}
