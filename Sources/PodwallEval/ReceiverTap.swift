import Foundation
import PodwallCapture
import PodwallCore
import PodwallLab

/// Where an attack's packets arrive when they get through: a namespace, the
/// interface they come in on, and a tcpdump filter for the attacker's packets.
public struct Receiver: Sendable {
    public let namespace: String
    public let interface: String
    public let filter: String
    /// For the progress line ("victim pod", "internet 198.19.0.2").
    public let name: String

    /// Where a scenario's target is.
    public enum Target: Sendable {
        /// The victim pod.
        case victim
        /// An address in the internet namespace.
        case internet(String)
        /// A network nothing answers for: the node, which would route it, is where it arrives.
        case node(network: String)
    }

    public static func of(_ target: Target, _ pods: EvalPods) -> Receiver {
        let attacker = "src host \(pods.attacker.ipv4)"
        switch target {
        case .victim:
            return Receiver(
                namespace: pods.victim.namespace, interface: "eth0", filter: "ip and \(attacker) and dst host \(pods.victim.ipv4)",
                name: "victim pod")
        case .internet(let address):
            return Receiver(
                namespace: pods.lab.internetNamespace, interface: "eth0", filter: "ip and \(attacker) and dst host \(address)",
                name: "internet \(address)")
        case .node(let network):
            return Receiver(
                namespace: pods.lab.nodeNamespace, interface: "br0", filter: "ip and \(attacker) and dst net \(network)",
                name: "node (\(network))")
        }
    }
}

/// tcpdump in the receiver's namespace, writing a pcap file with nanosecond
/// timestamps (the receiving kernel's CLOCK_REALTIME) into the lab's
/// temporary directory; read back through libpcap and deleted on `finish()`.
final class ReceiverTap {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Capture {
        var frames: [Delivery.Frame]
        /// tcpdump's "dropped by kernel" (its ring was full): the count is then a lower bound.
        var kernelDrops: Int
    }

    let file: String
    let log: String
    private let process: Process

    /// Starts tcpdump and waits until it listens.
    init(lab: Lab, receiver: Receiver, name: String) throws {
        let directory = try lab.makeTemporaryDirectory()
        file = "\(directory)/\(name).pcap"
        log = "\(directory)/\(name).tcpdump.log"
        try? FileManager.default.removeItem(atPath: file)
        // -p: the frames are addressed to this interface anyway, and a
        // promiscuous bridge would pass the background load up too. -Z root:
        // keep the right to write into the lab's directory. Signals
        // unblocked: a Swift parent's blocked SIGINT would be inherited, and
        // tcpdump only writes out its buffer and counters when it handles one.
        process = try lab.spawn(
            inNamespace: receiver.namespace,
            Shell.withSignalsUnblocked(
                [
                    "tcpdump", "-i", receiver.interface, "-p", "-n", "-s", "128", "-B", "16384", "-Z", "root",
                    "--time-stamp-precision", "nano", "-w", file, receiver.filter
                ]), logFile: log)
        let deadline = Date().addingTimeInterval(10)
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening on") {
            guard process.isRunning, Date() < deadline else {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                finishProcess()
                removeFiles()
                throw Failure(
                    description: "tcpdump did not start in \(receiver.namespace): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
                )
            }
            usleep(20_000)
        }
    }

    /// Stops tcpdump (it flushes the file and prints its counters), reads the file, deletes both.
    func finish() throws -> Capture {
        defer { removeFiles() }
        finishProcess()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let drops =
            output.split(separator: "\n").first { $0.hasSuffix("packets dropped by kernel") }
            .flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        return Capture(frames: try Self.read(file), kernelDrops: drops)
    }

    private func finishProcess() {
        guard process.isRunning else { return }
        process.interrupt()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func removeFiles() {
        try? FileManager.default.removeItem(atPath: file)
        try? FileManager.default.removeItem(atPath: log)
    }

    /// Every IP frame of a capture file, with its nanosecond timestamp.
    static func read(_ path: String) throws -> [Delivery.Frame] {
        var frames: [Delivery.Frame] = []
        try PcapPackets.forEach(path) { packet, linkType in
            if let frame = Delivery.frame(packet.bytes, linkType: linkType, wireLength: packet.wireLength, timeNs: packet.timestampNs) {
                frames.append(frame)
            }
        }
        return frames
    }
}
