import ArgumentParser
import PodwallCommandLine
import Foundation
import PodwallCapture
import PodwallCore

struct PcapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcap",
        abstract: "List and export the captures the agent made of suspicious flows.",
        discussion: """
            The agent's `capture` response (on by default for exfiltration and protocol-mismatch \
            alerts, and for scans) records the alert's flow, or the scanning pod, into a pcap file \
            under the capture directory, named by alert id; the first packet of a protocol alert's \
            file holds the payload that triggered it. The directory stays within its disk budget \
            by evicting the oldest finished captures.

            Examples:
              podwall pcap list
              podwall pcap list --json | jq 'select(.lost > 0)'
              podwall pcap export pm-1a2b3c4d -o /tmp/alert.pcap
            """,
        subcommands: [List.self, Export.self]
    )

    struct DirectoryOption: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("The agent's capture directory.", valueName: "dir"))
        var captureDir: String = CaptureStore.defaultDirectory

        var store: CaptureStore { CaptureStore(directory: captureDir) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List captures: id, alert, flow, packets, bytes, lost, file.")
        @Flag(name: .long, help: "One JSON object per line.")
        var json = false
        @OptionGroup var directory: DirectoryOption

        func run() async throws {
            let summaries = directory.store.summaries()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                for summary in summaries { print(String(decoding: try encoder.encode(summary), as: UTF8.self)) }
                return
            }
            let rows = summaries.map { summary in
                [
                    summary.id, summary.alertID ?? "-", summary.filter, String(summary.packets), String(summary.bytes),
                    String(summary.notInFile), summary.state.rawValue, summary.file
                ]
            }
            print(TextTable.render(header: ["ID", "ALERT", "FILTER", "PACKETS", "BYTES", "LOST", "STATE", "FILE"], rows: rows))
            print("\(summaries.count) capture\(summaries.count == 1 ? "" : "s") in \(directory.captureDir)")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy a capture's pcap file out of the capture directory.")
        @Argument(help: ArgumentHelp("The capture id (for alert captures: the alert id).", valueName: "id"))
        var id: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the pcap file.", valueName: "file"))
        var output: String
        @OptionGroup var directory: DirectoryOption

        func run() async throws {
            do {
                try directory.store.export(id, to: output)
            } catch let error as CaptureError {
                throw ValidationError.failure(error.description)
            }
            print("exported \(id) to \(output)")
        }
    }
}
