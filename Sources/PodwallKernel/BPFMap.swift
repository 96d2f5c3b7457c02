import CPodwallShim
import Glibc

/// A typed view of a BPF map: Key and Value are the ABI header's structs.
/// It works on a map of a loaded object or on a pinned map opened by path.
public struct BPFMap<Key: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
    public let name: String
    public let fd: Int32
    /// Keeps the object or the descriptor that owns `fd` alive.
    private let owner: any AnyObject & Sendable

    init(name: String, fd: Int32, owner: any AnyObject & Sendable) {
        self.name = name
        self.fd = fd
        self.owner = owner
    }

    /// How many entries the map holds at most.
    public var capacity: Int {
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 ? Int(info.max_entries) : Int.max
    }

    /// Opens a pinned map, checking that its key and value sizes match the ABI.
    public static func pinned(at path: String) throws -> BPFMap {
        let descriptor = try FileDescriptor.openPinned(path)
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        try KernelError.check(bpf_obj_get_info_by_fd(descriptor.fd, &info, &length), "reading info of pinned map", path)
        guard info.key_size == MemoryLayout<Key>.size,
            info.value_size == MemoryLayout<Value>.size || isPerCPU(info.type)
        else {
            throw KernelError(
                "opening pinned map (key \(info.key_size) B, value \(info.value_size) B; this podwall expects \(MemoryLayout<Key>.size) B, \(MemoryLayout<Value>.size) B; it was made by another podwall version)",
                path, errno: EINVAL)
        }
        return BPFMap(name: path, fd: descriptor.fd, owner: descriptor)
    }

    private static func isPerCPU(_ type: UInt32) -> Bool {
        type == BPF_MAP_TYPE_PERCPU_ARRAY.rawValue || type == BPF_MAP_TYPE_PERCPU_HASH.rawValue
            || type == BPF_MAP_TYPE_LRU_PERCPU_HASH.rawValue
    }

    /// nil when the key is not there; any other failure throws (a map that
    /// cannot be read must not look empty).
    public func lookup(_ key: Key) throws -> Value? {
        var key = key
        let value = UnsafeMutablePointer<Value>.allocate(capacity: 1)
        defer { value.deallocate() }
        let result = bpf_map_lookup_elem(fd, &key, value)
        if result == -ENOENT || (result == -1 && Glibc.errno == ENOENT) { return nil }
        try KernelError.check(result, "reading map", name)
        return value.pointee
    }

    public enum UpdateMode: UInt64 {
        case any = 0, createOnly = 1, replaceOnly = 2
    }

    public func update(_ key: Key, _ value: Value, mode: UpdateMode = .any) throws {
        var key = key
        var value = value
        try KernelError.check(bpf_map_update_elem(fd, &key, &value, mode.rawValue), "updating map", name)
    }

    /// Returns false when the key was not there.
    @discardableResult
    public func delete(_ key: Key) throws -> Bool {
        var key = key
        let result = bpf_map_delete_elem(fd, &key)
        if result == -ENOENT || (result == -1 && Glibc.errno == ENOENT) { return false }
        try KernelError.check(result, "deleting from map", name)
        return true
    }

    public func keys() -> [Key] {
        var keys: [Key] = []
        let current = UnsafeMutablePointer<Key>.allocate(capacity: 1)
        let next = UnsafeMutablePointer<Key>.allocate(capacity: 1)
        defer { current.deallocate(); next.deallocate() }
        var previous: UnsafeMutablePointer<Key>? = nil
        while bpf_map_get_next_key(fd, previous, next) == 0 {
            keys.append(next.pointee)
            current.pointee = next.pointee
            previous = current
        }
        return keys
    }

    /// Every entry, read in batches where the kernel supports it (hash maps),
    /// else key by key. Entries that vanish during the walk are skipped.
    public func entries(batchSize: Int = 4096) -> [(key: Key, value: Value)] {
        if let batched = try? lookupBatched(batchSize: batchSize) { return batched }
        return keys().compactMap { key in (try? lookup(key))?.map { (key, $0) } }
    }

    private func lookupBatched(batchSize: Int) throws -> [(key: Key, value: Value)] {
        var result: [(key: Key, value: Value)] = []
        let keys = UnsafeMutablePointer<Key>.allocate(capacity: batchSize)
        let values = UnsafeMutablePointer<Value>.allocate(capacity: batchSize)
        // The batch cursor is opaque and sized like a key for hash maps.
        let cursor = UnsafeMutableRawPointer.allocate(byteCount: max(MemoryLayout<Key>.size, 8), alignment: 8)
        defer { keys.deallocate(); values.deallocate(); cursor.deallocate() }
        var first = true
        while true {
            var count = UInt32(batchSize)
            let status = bpf_map_lookup_batch(fd, first ? nil : cursor, cursor, keys, values, &count, nil)
            let code = status == 0 ? 0 : (status == -1 ? Glibc.errno : -status)
            for index in 0..<Int(count) { result.append((keys[index], values[index])) }
            first = false
            if code == ENOENT { return result }
            if code != 0 { throw KernelError("reading batch from map", name, errno: code) }
        }
    }

    /// Updates `keys[range]` to `values[range]`, one syscall per chunk.
    public func updateBatch(keys: [Key], values: [Value], range: Range<Int>, chunk: Int = 65536) throws {
        try keys.withUnsafeBufferPointer { keys in
            try values.withUnsafeBufferPointer { values in
                var start = range.lowerBound
                while start < range.upperBound {
                    var count = UInt32(min(chunk, range.upperBound - start))
                    let status = bpf_map_update_batch(fd, keys.baseAddress! + start, values.baseAddress! + start, &count, nil)
                    let code = status == -1 ? Glibc.errno : -status
                    if status != 0 && (code == 524 /* ENOTSUPP */ || code == EOPNOTSUPP) {
                        // No batch updates for this map type (the LPM trie
                        // before Linux 6.x, e.g. 5.10): the kernel wrote
                        // nothing, so element by element from `start`.
                        for index in start..<range.upperBound {
                            try update(keys[index], values[index])
                        }
                        return
                    }
                    try KernelError.check(status, "updating batch in map", name)
                    start += Int(count)
                }
            }
        }
    }

    /// Deletes many keys in one syscall per chunk (hash maps); keys already
    /// gone are skipped one by one.
    public func deleteBatch(_ keys: [Key], chunk: Int = 65536) throws {
        var start = 0
        while start < keys.count {
            var slice = Array(keys[start..<min(start + chunk, keys.count)])
            var count = UInt32(slice.count)
            if bpf_map_delete_batch(fd, &slice, &count, nil) != 0 {
                // ENOENT stops the batch at a missing key: finish key by key.
                for key in slice[Int(count)...] { try delete(key) }
            }
            start += slice.count
        }
    }

}

/// An owned file descriptor, closed when the last reference goes.
public final class FileDescriptor: Sendable {
    public let fd: Int32

    public init(_ fd: Int32) {
        self.fd = fd
    }

    public static func openPinned(_ path: String) throws -> FileDescriptor {
        let fd = bpf_obj_get(path)
        try KernelError.check(fd, "opening pinned object", path)
        return FileDescriptor(fd)
    }

    deinit {
        close(fd)
    }
}
