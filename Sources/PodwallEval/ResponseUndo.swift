import Foundation
import PodwallKernel
import PodwallLab

/// What an operator does after triage, through the CLI: release the
/// quarantined pod, delete the destination's block. With a shared agent the
/// CLI goes through the agent (its local socket), so the agent knows of the
/// release (and re-applies the response if the behaviour goes on).
struct ResponseUndo {
    let agent: LabAgent
    /// Whether an agent runs while the CLI writes (the write must go through it).
    let throughAgent: Bool
    /// The pods' host interfaces by ifindex in the node namespace (quarantine keys).
    let interfaces: [UInt32: String]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(agent: LabAgent, throughAgent: Bool) throws {
        self.agent = agent
        self.throughAgent = throughAgent
        var interfaces: [UInt32: String] = [:]
        for pod in agent.lab.pods {
            let text = try agent.lab.inNode(["cat", "/sys/class/net/\(pod.hostInterface)/ifindex"]).output
            if let index = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) { interfaces[index] = pod.hostInterface }
        }
        self.interfaces = interfaces
    }

    /// `podwall ARGS`; throws unless the write went through the agent (when one is meant to run).
    @discardableResult
    func podwall(_ arguments: [String], allowing refusal: String? = nil) throws -> String {
        let result = try agent.podwall(arguments)
        let said = (result.output + result.error).trimmingCharacters(in: .whitespacesAndNewlines)
        if let refusal, said.contains(refusal) { return said }
        guard result.succeeded, !throughAgent || said.contains("through the agent") else {
            throw Failure(description: "`podwall \(arguments.joined(separator: " "))` did not go through the agent: \(said)")
        }
        return said
    }

    /// Undoes the responses `lines` report, then anything else the kernel's
    /// maps still hold (a response whose line is not written yet); returns
    /// the commands run.
    func undo(_ lines: [AlertLine]) throws -> [String] {
        var quarantined = Set(lines.filter(\.quarantined).compactMap(\.sourceInterface))
        var blocked = Set(lines.flatMap(\.blocked))
        let held = try inForce()
        quarantined.formUnion(held.quarantined)
        blocked.formUnion(held.blocked)
        var commands: [String] = []
        // Released already (it expired, or an earlier undo took it) is fine.
        for interface in quarantined.sorted() {
            try podwall(["quarantine", "release", interface], allowing: "is not quarantined")
            commands.append("quarantine release \(interface)")
        }
        for prefix in blocked.sorted() {
            try podwall(["blocklist", "del", prefix], allowing: "is not in the blocklist")
            commands.append("blocklist del \(prefix)")
        }
        return commands
    }

    /// Quarantined pods and dynamic blocklist entries in the kernel's maps (read only).
    func inForce() throws -> (quarantined: [String], blocked: [String]) {
        let state = PinnedState(pinRoot: agent.lab.pinRoot)
        guard state.isInstalled else { return ([], []) }
        let quarantined = try state.quarantine().interfaces().map { interfaces[$0] ?? "ifindex \($0)" }
        let blocked = try state.blocklist().entries().filter { $0.value.isDynamic }.map { $0.key.description }
        return (quarantined, blocked)
    }
}
