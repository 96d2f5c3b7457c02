import ArgumentParser

@main
struct Podwall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podwall",
        abstract: "Watches and protects pod networks from inside the kernel (eBPF on TC and cgroup hooks).",
        discussion: """
            Start the node agent with `podwall run`; it attaches to every pod veth and tracks \
            every flow in pinned BPF maps that survive agent restarts. `podwall flows` reads \
            those maps at any time. `podwall demo` builds a lab of pods in network namespaces \
            and shows it all live. Needs root (or CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON) and \
            Linux >= 5.10 (below 5.12 without in-kernel capture; `podwall status` lists what \
            this kernel offers).
            """,
        subcommands: [
            Run.self, ConfigCommand.self, Flows.self, Status.self, BlocklistCommand.self, QuarantineCommand.self, CaptureCommand.self,
            PcapCommand.self, ReplayCommand.self, Uninstall.self, Demo.self, EvalCommand.self
        ]
    )
}
