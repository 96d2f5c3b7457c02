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
        // Its help and usage then say `podwall eval`, the command typed.
        setenv(LabInvocation.environmentKey, "podwall", 1)
        execv(lab, &cArguments)
        FileHandleOutput.standardError(
            "Error: `podwall \(command)` runs \(lab), which is missing (\(String(cString: strerror(errno)))): "
                + "build or install podwall-lab with podwall")
        throw ExitCode.failure
    }
}

/// A command that hands everything after its name, --help included, to
/// the same subcommand of podwall-lab.
protocol LabSubcommand: ParsableCommand {
    var arguments: [String] { get }
}

extension LabSubcommand {
    func run() throws {
        try LabExecutable.run(Self._commandName, arguments)
    }
}

struct Demo: LabSubcommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a lab of pods in network namespaces and show podwall live (podwall-lab demo).")

    @Argument(parsing: .captureForPassthrough, help: "Passed to podwall-lab demo.")
    var arguments: [String] = []
}

struct EvalCommand: LabSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure detection: attacks and benign traffic in a lab, with recall, precision and latencies (podwall-lab eval).")

    @Argument(parsing: .captureForPassthrough, help: "Passed to podwall-lab eval.")
    var arguments: [String] = []
}
