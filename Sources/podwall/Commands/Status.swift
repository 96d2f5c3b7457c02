import ArgumentParser
import PodwallCommandLine
import PodwallCore
import PodwallKernel

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show attached interfaces, the kernel's features and counters.",
        discussion: """
            Reads the pinned maps; works whether or not the agent runs. The kernel's \
            features are probed anew: what podwall uses, what falls back and what is \
            missing on this kernel, and what that means for the protection you have.
            """
    )

    @OptionGroup var pins: PinOptions

    func run() async throws {
        LibbpfLog.capture(echo: false)
        try await reportingKernelErrors {
            let state = PinnedState(pinRoot: pins.pinRoot)
            // Features first: they tell what protection this kernel allows
            // even when nothing is installed yet.
            let links = try? state.links().entries().sorted { $0.key < $1.key }
            let features = KernelFeatures.probe()
            let tcx = links.flatMap { $0.isEmpty ? nil : $0.contains { $0.value.flags.contains(.tcx) } }
            print("kernel features (Linux \(features.release); data path build \(features.datapathImage.name)):")
            print(
                TextTable.render(
                    header: ["FEATURE", "STATE", "WHAT IT MEANS"],
                    rows: features.report(usesTCX: tcx).map { [$0.name, $0.state.rawValue, $0.effect] }))
            let names = try LinkWatcher.namesByIndex()
            let attached = try links ?? state.links().entries().sorted { $0.key < $1.key }
            print("\nattached interfaces: \(attached.count)")
            let rows = attached.map { entry -> [String] in
                let ingress = PodInterfaceAttachment.programID(ifindex: entry.key, hook: .ingress).map(String.init) ?? "-"
                let egress = PodInterfaceAttachment.programID(ifindex: entry.key, hook: .egress).map(String.init) ?? "-"
                let first = TCHook.allCases.allSatisfy { PodInterfaceAttachment.runsFirst(ifindex: entry.key, hook: $0) }
                let via =
                    entry.value.flags.contains(.tcx)
                    ? (first ? "tcx" : "tcx, NOT FIRST: a program before podwall's may pass packets past it")
                    : entry.value.flags.contains(.qdiscCreated) ? "clsact (podwall's)" : "clsact (existing)"
                // The compat build (Linux < 5.12) counts no per-interface losses.
                let lost = features.linkCounts ? String(entry.value.ringDrops) : "-"
                return [names[entry.key] ?? "if\(entry.key) (gone)", String(entry.key), ingress, egress, via, lost]
            }
            if !rows.isEmpty {
                print(
                    TextTable.render(
                        header: ["INTERFACE", "IFINDEX", "INGRESS PROG", "EGRESS PROG", "ATTACHED THROUGH", "EVENTS LOST"], rows: rows))
            }
            print("\nkernel counters:")
            print(TextTable.render(header: ["COUNTER", "VALUE"], rows: try state.counters().snapshot().map { [$0.name, String($0.value)] }))
            if let processes = state.processCounters() {
                print(
                    "\nprocesses in pods: \(state.watchesProcesses ? "watched (exec, fork, exit)" : "not watched (no agent has attached the process programs)")"
                )
                print(
                    TextTable.render(
                        header: ["COUNTER", "VALUE"], rows: processes.snapshot().map { ["process_" + $0.name, String($0.value)] }))
            }
        }
    }
}
