import Glibc

/// One writer per pin root. The agent holds this lock for its whole life and
/// a CLI command that writes the pins without an agent holds it for the
/// write, so two processes never interleave their writes (the policy
/// generation is a read-modify-write, and an agent keeps its own picture of
/// the maps it diffs feeds and expiries against).
///
/// bpffs takes no regular files, and capture slots already flock the pin
/// directory itself, so the lock is a file under `RuntimeFiles.directory`.
public final class PinWriterLock: Sendable {
    /// A writer already holds the pins.
    public struct Held: Error, CustomStringConvertible {
        public let pinRoot: String
        /// "pid 1234: podwall run ...", as the holder wrote it.
        public let holder: String

        public var description: String {
            "another podwall process writes the pins at \(pinRoot) (\(holder.isEmpty ? "holder unknown" : holder))"
        }
    }

    public let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Takes the lock of `pinRoot`, waiting up to `seconds` for its holder
    /// (a command's write takes milliseconds; an agent holds it until it stops).
    public static func acquire(pinRoot: String, waitingUpTo seconds: Double) throws -> PinWriterLock {
        let files = RuntimeFiles(pinRoot: pinRoot)
        try files.prepareDirectory()
        let deadline = MonotonicClock.now() &+ UInt64(max(seconds, 0) * 1e9)
        while true {
            let fd = open(files.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw KernelError("opening the writer lock", files.lockPath, errno: errno) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                // A holder that released removed the file: lock the one now at the path.
                if isStillAt(fd, files.lockPath) {
                    let lock = PinWriterLock(path: files.lockPath, fd: fd)
                    lock.recordHolder()
                    return lock
                }
            } else if errno != EWOULDBLOCK {
                let failure = errno
                close(fd)
                throw KernelError("locking", files.lockPath, errno: failure)
            }
            close(fd)
            if MonotonicClock.now() >= deadline {
                throw Held(pinRoot: pinRoot, holder: holder(at: files.lockPath))
            }
            usleep(50_000)
        }
    }

    /// Runs `body` under the lock of `pinRoot`.
    public static func holding<T>(pinRoot: String, waitingUpTo seconds: Double = 5, _ body: () async throws -> T) async throws -> T {
        let lock = try acquire(pinRoot: pinRoot, waitingUpTo: seconds)
        defer { lock.release() }
        return try await body()
    }

    /// Removes the file while still holding it, so a waiter never locks a
    /// file that has no name any more (it checks, and retries).
    public func release() {
        unlink(path)
        close(fd)
    }

    private func recordHolder() {
        var arguments = CommandLine.arguments
        if let program = arguments.first?.split(separator: "/").last { arguments[0] = String(program) }
        let text = "pid \(getpid()): " + arguments.joined(separator: " ") + "\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    private static func isStillAt(_ fd: Int32, _ path: String) -> Bool {
        var opened = stat(), named = stat()
        return fstat(fd, &opened) == 0 && stat(path, &named) == 0 && opened.st_ino == named.st_ino && opened.st_dev == named.st_dev
    }

    private static func holder(at path: String) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return "" }
        let line = String(cString: buffer)
        return line.hasSuffix("\n") ? String(line.dropLast()) : line
    }
}
