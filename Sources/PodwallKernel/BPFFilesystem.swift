import CPodwallShim
import Glibc

/// The BPF filesystem where podwall pins its maps, so that enforcement and
/// flow state outlive the agent.
public enum BPFFilesystem {
    public static let defaultMountPoint = "/sys/fs/bpf"
    public static let defaultPinRoot = "/sys/fs/bpf/podwall"
    private static let magic: UInt = 0xcafe_4a11

    public static func isMounted(at path: String = defaultMountPoint) -> Bool {
        var info = statfs()
        guard statfs(path, &info) == 0 else { return false }
        return UInt(bitPattern: Int(info.f_type)) == magic
    }

    /// Mounts bpffs if it is missing (as Cilium does), then creates `pinRoot`.
    public static func prepare(pinRoot: String, mountPoint: String = defaultMountPoint) throws {
        if !isMounted(at: mountPoint) {
            _ = mkdir(mountPoint, 0o755)
            try KernelError.check(
                mount("bpf", mountPoint, "bpf", 0, nil) == 0 ? 0 : -1,
                "mounting bpffs at", mountPoint)
        }
        try createDirectories(pinRoot)
    }

    static func createDirectories(_ path: String) throws {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && Glibc.errno != EEXIST {
                throw KernelError("creating pin directory", current, errno: Glibc.errno)
            }
        }
    }

    /// The names of the pins directly under `pinRoot`.
    public static func pinNames(under pinRoot: String) -> [String] {
        guard let directory = opendir(pinRoot) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes every pin under `pinRoot` and the directory itself. Returns the removed paths.
    @discardableResult
    public static func removePins(under pinRoot: String) -> [String] {
        let removed = pinNames(under: pinRoot).map { pinRoot + "/" + $0 }.filter { unlink($0) == 0 }
        rmdir(pinRoot)
        return removed
    }

    /// Pins an object at `path` in place of what is pinned there: `pin`
    /// pins it beside (bpffs refuses names with a dot, hence `_new`) and a
    /// rename swaps it in, so the path never names nothing.
    static func replacePin(at path: String, _ pin: (String) -> Int32) throws {
        let fresh = path + "_new"
        _ = unlink(fresh)
        try KernelError.check(pin(fresh), "pinning", fresh)
        guard rename(fresh, path) == 0 else {
            let error = errno
            _ = unlink(fresh)
            throw KernelError("replacing the pin", path, errno: error)
        }
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}
