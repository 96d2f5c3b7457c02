import ArgumentParser
import PodwallCommandLine
import PodwallKernel

struct Uninstall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove every TCX link, TC filter, qdisc and pin podwall created, and nothing else.",
        discussion: """
            TCX links are podwall's when they are pinned under the pin root (removing the pin \
            detaches them). Filters (kernels without TCX, or tc_attach: clsact) are podwall's \
            when they sit in podwall's slot (handle 0x504457, priority 1) and run a program \
            named pw_*. A clsact qdisc is removed only if podwall created it and no other filter \
            is left on it. Stop the agent first: while one runs on the pins, uninstall refuses \
            and removes nothing.
            """
    )

    @OptionGroup var pins: PinOptions

    func run() async throws {
        LibbpfLog.capture(echo: false)
        try await reportingKernelErrors {
            let report = try await pins.writingDirectly { try Uninstaller.uninstall(pinRoot: pins.pinRoot) }
            print(
                "removed \(report.links.count) TCX links, \(report.filters.count) filters, \(report.qdiscs.count) qdiscs, \(report.pins.count) pins"
            )
            for link in report.links { print("  TCX link \(link)") }
            for filter in report.filters { print("  filter \(filter)") }
            for qdisc in report.qdiscs { print("  clsact qdisc on \(qdisc)") }
            for pin in report.pins { print("  pin \(pin)") }
        }
    }
}
