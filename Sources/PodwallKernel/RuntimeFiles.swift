import Glibc

/// What belongs to one pin root outside bpffs: the writer lock and the
/// running agent's local socket, under a root-only directory. The socket's
/// file permissions are its access check: only root reaches it, so the CLI
/// writes through the agent with no token to manage.
public struct RuntimeFiles: Sendable {
    public static let directory = "/run/podwall"

    public let pinRoot: String

    public init(pinRoot: String) {
        self.pinRoot = pinRoot
    }

    /// The pin root's last component and a hash of the whole path: readable,
    /// unique per pin root, and short enough for a socket address (108 bytes).
    var stem: String {
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in pinRoot.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let name = pinRoot.split(separator: "/").last.map { String($0.prefix(40)) } ?? "root"
        let hex = String(hash, radix: 16)
        return name + "-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    public var lockPath: String { Self.directory + "/" + stem + ".lock" }
    public var socketPath: String { Self.directory + "/" + stem + ".sock" }

    /// Creates the directory, root-only whatever made it before.
    public func prepareDirectory() throws {
        if mkdir(Self.directory, 0o700) != 0 && errno != EEXIST {
            throw KernelError("creating", Self.directory, errno: errno)
        }
        try KernelError.check(chmod(Self.directory, 0o700), "restricting to root", Self.directory)
    }
}
