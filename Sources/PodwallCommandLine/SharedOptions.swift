import ArgumentParser
import Foundation
import Logging
import PodwallKernel

// What podwall's two executables share: the operator's `podwall` and the
// lab's `podwall-lab` (demo and eval).

public struct PinOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Where podwall pins its maps in bpffs.", valueName: "dir"))
    public var pinRoot: String = BPFFilesystem.defaultPinRoot

    public init() {}
}

public struct LoggingOptions: ParsableArguments {
    @Flag(name: .long, help: "Log more, including libbpf's and the verifier's messages.")
    public var debug = false

    public init() {}

    public func bootstrap() -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = debug ? .debug : .info
            return handler
        }
        LibbpfLog.capture(echo: debug)
        return Logger(label: "podwall")
    }
}

/// Prints a kernel error as one sentence and exits non-zero.
public func reportingKernelErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as KernelError {
        throw ValidationError.failure(error.description)
    }
}

extension ValidationError {
    /// ArgumentParser prints a ValidationError as `Error: <message>` plus usage;
    /// kernel failures are no usage mistake, so they go out without it.
    public static func failure(_ message: String) -> ExitCode {
        FileHandleOutput.standardError("Error: \(message)")
        return ExitCode.failure
    }
}

public enum FileHandleOutput {
    public static func standardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// A binary installed next to this one (`podwall` and `podwall-lab` come from
/// one build), found through /proc/self/exe so that a relative or PATH
/// invocation finds it too.
public enum SiblingExecutable {
    public static func path(_ name: String) -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }
}
