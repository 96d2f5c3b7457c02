import Glibc
import PodwallKernel
import PodwallTestSupport
import Testing

/// One writer per pin root, between processes as within one.
@Suite(.enabled(if: Privileged.enabled, Privileged.reason))
struct PinWriterLockTests {
    let pinRoot = "/sys/fs/bpf/pwtest-lock-\(getpid())"

    @Test func aSecondWriterWaitsThenIsToldWhoHoldsThePins() throws {
        let first = try PinWriterLock.acquire(pinRoot: pinRoot, waitingUpTo: 0)
        do {
            _ = try PinWriterLock.acquire(pinRoot: pinRoot, waitingUpTo: 0.2)
            Issue.record("a second writer took a held lock")
        } catch let held as PinWriterLock.Held {
            #expect(held.description.hasPrefix("another podwall process writes the pins at \(pinRoot) (pid \(getpid()): "), "\(held)")
        }
        first.release()
        #expect(access(first.path, F_OK) != 0, "released, the file is gone")
        let again = try PinWriterLock.acquire(pinRoot: pinRoot, waitingUpTo: 0)
        again.release()
    }

    @Test func theLockAndSocketAreRootOnlyAndDistinctPerPinRoot() throws {
        let files = RuntimeFiles(pinRoot: pinRoot), other = RuntimeFiles(pinRoot: pinRoot + "x")
        #expect(files.socketPath != other.socketPath && files.lockPath != other.lockPath)
        #expect(files.socketPath.utf8.count < 108)
        try files.prepareDirectory()
        var info = stat()
        #expect(stat(RuntimeFiles.directory, &info) == 0 && info.st_mode & 0o777 == 0o700)
    }
}
