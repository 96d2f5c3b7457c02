import Foundation
import PodwallLab

/// What runs in the lab besides the scenarios: servers, and with `--load`
/// traffic from bystanders and from the attacking pod itself.
enum EvalServices {
    /// HTTP servers in the web and victim pods, iperf3 in the web pod, sinks in the internet.
    static func start(_ pods: EvalPods) throws {
        let lab = pods.lab
        for pod in [pods.web, pods.victim] {
            try lab.spawnSplitWriteHTTPServer(in: pod)
        }
        try lab.spawnInPod(pods.web, ["iperf3", "-s", "-p", "5301"])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "nc -lk -p 9000 > /dev/null"])
        // Port 80 takes connections side by side: a connection the block cut
        // off stays open on this side, and must not keep the next run's from being served.
        try lab.spawn(inNamespace: lab.internetNamespace, ["python3", "-c", sinkServer(port: 80)])
        try lab.spawn(inNamespace: lab.internetNamespace, ["sh", "-c", "while true; do nc -l -p 8088 > /dev/null; done"])
        usleep(500_000)
    }

    /// A TCP server that reads and discards, one thread per connection; a
    /// connection idle for 30 s is closed.
    static func sinkServer(port: Int) -> String {
        """
        import socketserver
        class Sink(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(30)
                try:
                    while self.request.recv(65536):
                        pass
                except OSError:
                    pass
        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
        Server(("", \(port)), Sink).serve_forever()
        """
    }

    /// The UDP port of the bystander the attacker floods: nothing listens there.
    static let closedPort = 9

    /// Bystanders: full-speed iperf3 TCP and a 64-byte UDP flood from one to
    /// the other. The attacker: an iperf3 TCP stream (200 Mbit/s) and a flood
    /// of new UDP flows to the other bystander, for the whole run.
    static func startLoad(_ pods: EvalPods) throws {
        let lab = pods.lab, client = pods.bystander, server = pods.loadServer
        for port in ["5201", "5202", "5203"] { try lab.spawnInPod(server, ["iperf3", "-s", "-p", port]) }
        usleep(300_000)
        try lab.spawnInPod(client, ["iperf3", "-c", server.ipv4, "-p", "5201", "-t", "86400"])
        try lab.spawnInPod(client, ["iperf3", "-c", server.ipv4, "-p", "5202", "-u", "-b", "0", "-l", "64", "-t", "86400"])
        try lab.spawnInPod(pods.attacker, ["iperf3", "-c", server.ipv4, "-p", "5203", "-b", "200M", "-t", "86400"])
        try startFlood(pods)
    }

    /// New UDP flows from the attacker, 5,000 a second to one closed port of
    /// a bystander (`Lab.spawnNewFlowFlood`).
    @discardableResult
    static func startFlood(_ pods: EvalPods) throws -> Process {
        try pods.lab.spawnNewFlowFlood(from: pods.attacker, to: pods.loadServer.ipv4, port: UInt16(closedPort))
    }

    /// Datagrams that reached the flooded port so far (the bystander's UDP NoPorts).
    static func floodReceived(_ pods: EvalPods) -> Int? {
        try? pods.lab.snmpCounter(pods.loadServer.namespace, group: "Udp", field: "NoPorts")
    }
}
