import ArgumentParser
import Foundation
import PodwallCommandLine

/// `podwall demo` and `podwall eval` run `podwall-lab`, installed next to
/// `podwall`: the lab's code (namespaces, traffic tools, scenarios) stays out
/// of the agent's binary, and the commands stay where users look for them.
enum LabExecutable {
    static func run(_ command: String, _ arguments: [String]) throws -> Never {
        let lab = SiblingExecutable.path("podwall-lab")
        let argv = [lab, command] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        execv(lab, &cArguments)
        FileHandleOutput.standardError("Error: `podwall \(command)` runs \(lab), which is missing (\(String(cString: strerror(errno)))): "
            + "build or install podwall-lab with podwall")
        throw ExitCode.failure
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a lab of pods in network namespaces and show podwall live (runs podwall-lab demo).",
        discussion: "`podwall demo --help` is this text; `podwall-lab demo --help` lists the demo's own options.")

    @Argument(parsing: .captureForPassthrough, help: "Passed to podwall-lab demo.")
    var arguments: [String] = []

    func run() throws {
        try LabExecutable.run("demo", arguments)
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure detection: attacks and benign traffic in a lab, with recall, precision and latencies (runs podwall-lab eval).",
        discussion: "`podwall-lab eval --help` lists the scenarios, the modes and every option.")

    @Argument(parsing: .captureForPassthrough, help: "Passed to podwall-lab eval.")
    var arguments: [String] = []

    func run() throws {
        try LabExecutable.run("eval", arguments)
    }
}
