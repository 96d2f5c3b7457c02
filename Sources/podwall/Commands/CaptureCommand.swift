import ArgumentParser
import PodwallCommandLine
import Foundation
import PodwallCapture
import PodwallCore
import PodwallKernel
import Synchronization

struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture pod packets to a pcap file, filtered in the kernel on every pod veth.",
        discussion: """
            Like `tcpdump -w`, but the filter runs in podwall's TC programs on every interface \
            podwall is attached to (so `podwall run` must have attached first), and the packet \
            budget (--count) and the expiry (--duration) are enforced in the kernel: a flood \
            costs nothing past them. Packets the kernel could not deliver are counted and \
            shown, never dropped silently. The file has nanosecond timestamps; open it with \
            Wireshark, tshark or tcpdump -r. Ctrl-C ends the capture; the file is complete.

            Examples:
              podwall capture --interface veth1a2b3c -o pod.pcap
              podwall capture --pod 10.244.1.7 --host 203.0.113.0/24 --port 443 --proto tcp --count 1000 -o out.pcap
              podwall capture --proto udp --port 53 --duration 30s --snaplen 65535 -o dns.pcap
            """
    )

    @Option(name: .long, help: ArgumentHelp("Only this pod interface (host-side veth).", valueName: "name"))
    var interface: String?

    @Option(name: .long, help: ArgumentHelp("Only this pod address (or CIDR).", valueName: "address"))
    var pod: String?

    @Option(name: .long, help: ArgumentHelp("Only traffic with this remote address or CIDR.", valueName: "cidr"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("Only this remote port.", valueName: "port"))
    var port: UInt16?

    @Option(name: .long, help: ArgumentHelp("Only this pod-side port.", valueName: "port"))
    var podPort: UInt16?

    @Option(name: .long, help: ArgumentHelp("Only this protocol: tcp, udp, icmp or icmpv6.", valueName: "proto"))
    var proto: String?

    @Option(name: .long, help: ArgumentHelp("Stop after this long, as 30s or 5m (enforced in the kernel).", valueName: "duration"))
    var duration: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Stop after this many packets (enforced in the kernel).", valueName: "n"))
    var count: UInt64?

    @Option(name: .long, help: ArgumentHelp("Bytes kept of each packet (1...\(CaptureTable.maxSnaplen)).", valueName: "bytes"))
    var snaplen: UInt32 = CaptureRequest.defaultSnaplen

    @Option(name: .shortAndLong, help: ArgumentHelp("The pcap file to write (replaced if it exists).", valueName: "file"))
    var output: String

    @Flag(name: .long, help: "No live packet counter.")
    var quiet = false

    @OptionGroup var pins: PinOptions

    func validate() throws {
        guard (1...CaptureTable.maxSnaplen).contains(snaplen) else {
            throw ValidationError("--snaplen must be 1...\(CaptureTable.maxSnaplen)")
        }
        if let count, count == 0 { throw ValidationError("--count must be at least 1") }
    }

    func request() throws -> CaptureRequest {
        var filter = CaptureFilter(
            pod: try pod.map(parsePrefix), remote: try host.map(parsePrefix), podPort: podPort,
            remotePort: port, proto: try proto.map(Self.parseProtocol))
        if let interface {
            filter.ifindex = try QuarantineCommand.ifindex(interface)
            filter.interfaceName = interface
        }
        let seconds = try duration.map { text in
            guard let seconds = GoDuration.seconds(text), seconds > 0 else {
                throw ValidationError("'\(text)' is not a duration such as 30s, 5m or 1h")
            }
            return seconds
        }
        let id = "cli-\(getpid())-\(Int(Date().timeIntervalSince1970))"
        return CaptureRequest(id: id, filter: filter, snaplen: snaplen, maxPackets: count, durationSeconds: seconds)
    }

    static func parseProtocol(_ text: String) throws -> IPProtocol {
        switch text.lowercased() {
        case "tcp": return .tcp
        case "udp": return .udp
        case "icmp": return .icmp
        case "icmpv6", "icmp6": return .icmpv6
        default: throw ValidationError("--proto is tcp, udp, icmp or icmpv6, not '\(text)'")
        }
    }

    func run() async throws {
        LibbpfLog.capture(echo: false)
        let request = try request()
        let state = PinnedState(pinRoot: pins.pinRoot)
        guard state.isInstalled else {
            throw ValidationError.failure("podwall is not installed under \(pins.pinRoot): start `podwall run` first")
        }
        let final = try await reportingKernelErrors { try await capture(request, state: state) }
        if final.state == .failed { throw ExitCode.failure }
    }

    private func capture(_ request: CaptureRequest, state: PinnedState) async throws -> CaptureSummary {
        try KernelFeatures.probe().checkCapture()
        let attached = Set(try state.links().interfaces())
        guard !attached.isEmpty else {
            throw ValidationError.failure("podwall is not attached to any interface yet: start `podwall run` first")
        }
        if let ifindex = request.filter.ifindex, !attached.contains(ifindex) {
            throw ValidationError.failure("podwall is not attached to \(interface ?? "that interface"); `podwall status` lists where it is")
        }
        try? FileManager.default.removeItem(atPath: output)
        let file: PcapFile
        do { file = try PcapFile(creating: output, snaplen: snaplen) } catch { throw ValidationError.failure("\(error)") }
        let kernel = try state.captures().start(request)
        let counter: LiveCounter? = quiet ? nil : LiveCounter()
        var progress: CaptureRecorder.Progress?
        if let counter { progress = { summary in counter.show(summary) } }
        let recorder = CaptureRecorder(
            kernel: kernel, request: request, file: file, store: nil, maxFileBytes: .max,
            progress: progress)
        try recorder.start()
        FileHandleOutput.standardError("capturing \(request.filter.summary) to \(output) (Ctrl-C to stop)")
        let final: CaptureSummary = try await SignalHandling.runUntilTerminated {
            await withTaskCancellationHandler {
                await recorder.finished()
            } onCancel: {
                recorder.stop()
            }
        }
        counter?.end()
        FileHandleOutput.standardError(Self.report(final))
        return final
    }

    static func report(_ summary: CaptureSummary) -> String {
        var text =
            "\(summary.packets) packets (\(summary.bytes) bytes) written to \(summary.file); "
            + "\(summary.matched) matched, \(summary.skipped) past the budget or expiry, \(summary.lost) lost in the kernel"
        if let reason = summary.reason { text += " [\(reason)]" }
        return text
    }
}

/// The packet counter on the terminal, redrawn at most ten times a second.
final class LiveCounter: Sendable {
    private let lastDrawn = Mutex(Date.distantPast)
    private let isTerminal = isatty(STDERR_FILENO) != 0

    func show(_ summary: CaptureSummary) {
        guard isTerminal else { return }
        lastDrawn.withLock { lastDrawn in
            guard Date().timeIntervalSince(lastDrawn) >= 0.1 else { return }
            lastDrawn = Date()
            let line = "\r\(summary.packets) packets, \(summary.bytes) bytes, \(summary.skipped) skipped, \(summary.lost) lost "
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func end() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
