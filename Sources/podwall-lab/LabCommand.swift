import ArgumentParser
import PodwallCommandLine

/// The lab's executable: everything that builds network namespaces and plays
/// traffic against a real `podwall run`, kept out of the agent's binary.
@main
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: LabInvocation.commandName,
        abstract: "podwall's lab: the demo and the detection evaluation, in pods made of network namespaces.",
        discussion: """
            Both start the `podwall` next to this binary as the agent under test and remove \
            everything they create at the end. `podwall demo` and `podwall eval` run these. \
            Needs root.
            """,
        subcommands: [Demo.self, EvalCommand.self]
    )
}
