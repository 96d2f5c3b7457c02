import Foundation
import Synchronization

/// Runs external tools (ip, nsenter, traffic generators) for labs.
public enum Shell {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
        public let error: String

        public init(status: Int32, output: String, error: String) {
            self.status = status
            self.output = output
            self.error = error
        }
        public var succeeded: Bool { status == 0 }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let command: [String]
        public let result: Result

        public init(command: [String], result: Result) {
            self.command = command
            self.result = result
        }
        public var description: String {
            "`\(command.joined(separator: " "))` exited \(result.status): \(result.error.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }

    /// `command` with every signal unblocked. Processes started from a Swift
    /// program inherit the blocked signal mask of Dispatch's threads, and a
    /// tool that paces itself with SIGALRM (hping3 -i) then hangs.
    public static func withSignalsUnblocked(_ command: [String]) -> [String] {
        ["perl", "-MPOSIX", "-e", "sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die; exec { $ARGV[0] } @ARGV or die", "--"] + command
    }

    /// Runs a command to completion, capturing its output. With `check`, a
    /// failure throws, so callers that only need it done may ignore the result.
    @discardableResult
    public static func run(_ arguments: [String], input: String? = nil, check: Bool = true) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes before waiting, so a chatty tool cannot block on a full pipe.
        let errorData = ErrorCollector(error.fileHandleForReading)
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let result = Result(
            status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
            error: String(decoding: errorData.wait(), as: UTF8.self))
        if check && !result.succeeded { throw Failure(command: arguments, result: result) }
        return result
    }

    /// Starts a command in the background; its output goes to `logFile` (or nowhere).
    public static func spawn(_ arguments: [String], logFile: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if let logFile {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    public static func isInstalled(_ tool: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(tool)"], check: false))?.succeeded == true
    }
}

/// Drains a pipe on another thread.
private final class ErrorCollector: Sendable {
    private let data = Mutex(Data())
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            let read = handle.readDataToEndOfFile()
            data.withLock { $0 = read }
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data.withLock { $0 }
    }
}
