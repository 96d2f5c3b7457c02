import Foundation
import PodwallLab

/// iperf3 from one lab pod to another (whose `iperf3 -s` the caller started).
public struct Iperf {
    public let lab: Lab
    public let client: Lab.Pod
    public let server: Lab.Pod
    public let seconds: Int

    /// A lab of two pods with `iperf3 -s` running in the second.
    public static func lab(seconds: Int) throws -> Iperf {
        let lab = try Lab(pods: 2)
        try lab.spawnInPod(lab.pods[1], ["iperf3", "-s"])
        usleep(500_000)
        return Iperf(lab: lab, client: lab.pods[0], server: lab.pods[1], seconds: seconds)
    }

    public init(lab: Lab, client: Lab.Pod, server: Lab.Pod, seconds: Int) {
        self.lab = lab
        self.client = client
        self.server = server
        self.seconds = seconds
    }

    /// Sender on CPU 0 and receiver on CPU 1 in every run: where the
    /// scheduler puts them otherwise moves the packet rate by more than the
    /// per-packet cost being measured (the sender's CPU also runs the whole
    /// softirq path, TC programs included).
    private func command(seconds: Int, _ extra: [String]) -> [String] {
        ["iperf3", "-c", server.ipv4, "-t", String(seconds), "-A", "0,1"] + extra
    }

    /// 64-byte datagrams as fast as the sender goes.
    private static let udpFlood = ["-u", "-b", "0", "-l", "64"]

    func json(_ extra: [String]) throws -> [String: Any] {
        let result = try lab.inPod(client, command(seconds: seconds, ["-J"] + extra))
        return try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
    }

    /// Starts a 64-byte UDP flood of `seconds` in the background; the
    /// caller reads the rate at the server (`Lab.snmpCounter`).
    public func startUDPFlood(seconds: Int) throws -> Process {
        try lab.spawnInPod(client, command(seconds: seconds, Self.udpFlood))
    }

    public func tcpGbits(port: Int? = nil) throws -> Double {
        let end = try json(port.map { ["--cport", String($0)] } ?? [])["end"] as! [String: Any]
        return ((end["sum_received"] as! [String: Any])["bits_per_second"] as! Double) / 1e9
    }

    public func udpPacketsPerSecond() throws -> Double {
        let end = try json(Self.udpFlood)["end"] as! [String: Any]
        let sum = end["sum"] as! [String: Any]
        let received = (sum["packets"] as! Int) - (sum["lost_packets"] as! Int)
        return Double(received) / (sum["seconds"] as! Double)
    }
}
