import Foundation
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// The agent on real veths in network namespaces made by the test, with
/// real traffic between pods.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct FlowTrackingTests {
    @Test func flowCountersMatchWhatWasSent() throws {
        let env = try AgentLab(pods: 2)
        try env.startAgent()
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])

        // UDP over IPv4 and IPv6: exact packet and byte counts.
        let datagrams = 50, payload = 100
        for (source, destination, port, headers) in [
            (client.ipv4, server.ipv4, UInt16(9000), 14 + 20 + 8),
            (client.ipv6, server.ipv6, UInt16(9001), 14 + 40 + 8)
        ] {
            let receiver = try NetworkNamespace.run(server.namespace) { try LabSocket.udpReceiver(address: destination, port: port) }
            defer { close(receiver) }
            try NetworkNamespace.run(client.namespace) {
                try LabSocket.sendUDP(to: destination, port: port, sourcePort: port + 100, count: datagrams, size: payload)
            }
            #expect(LabSocket.drain(receiver) == datagrams)
            let flows = try env.flows().filter { $0["remote_port"] as? Int == Int(port) && $0["pod"] as? String == source }
            let flow = try #require(flows.first, "no flow \(source) -> \(destination):\(port)")
            #expect(flow["interface"] as? String == client.hostInterface)
            #expect(flow["initiator"] as? String == "pod")
            #expect(flow.int("from_pod", "packets") == datagrams)
            #expect(flow.int("from_pod", "bytes") == datagrams * (payload + headers))
            // The same datagrams enter the server pod through its own veth.
            let inbound = try env.flows().first {
                $0["interface"] as? String == server.hostInterface && $0["pod_port"] as? Int == Int(port)
            }
            #expect(inbound?.int("to_pod", "packets") == datagrams)
            #expect(inbound?["initiator"] as? String == "remote")
        }

        // TCP: 1 MB from client to server.
        let bytes = 1_000_000
        let listener = try NetworkNamespace.run(server.namespace) { try LabSocket.tcpListener(address: server.ipv4, port: 8080) }
        defer { close(listener) }
        let received = OnAThread { LabSocket.acceptAndCount(listener) }
        let clientPort = try NetworkNamespace.run(client.namespace) { try LabSocket.sendTCP(to: server.ipv4, port: 8080, bytes: bytes) }
        #expect(try received.join() == bytes)
        let flow = try #require(try env.flows().first { $0["pod_port"] as? Int == Int(clientPort) && $0["remote_port"] as? Int == 8080 })
        #expect((flow.int("from_pod", "bytes") ?? 0) > bytes, "wire bytes include every header")
        #expect((flow.int("from_pod", "bytes") ?? 0) < bytes + bytes / 10)
        #expect((flow["from_pod"] as? [String: Any])?["tcp_flags"] as? String == "SFP.")
        #expect((flow.int("to_pod", "packets") ?? 0) > 0)
    }

    /// Exfiltration is judged as the bytes go: the kernel reports each MiB a
    /// pod sends on a flow it opened (a volume event), not what it receives.
    @Test(.enabled(if: KernelFeatures.probe().volumeEvents, "the compat build (Linux < 5.12) sends none"))
    func eachMebibyteAPodSendsOnAFlowItOpenedIsAVolumeEvent() throws {
        let env = try AgentLab(pods: 2)
        try env.startAgent(extraArguments: ["--log-flows"])
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        let bytes = 3_500_000  // with headers: past 1, 2 and 3 MiB
        let listener = try NetworkNamespace.run(server.namespace) { try LabSocket.tcpListener(address: server.ipv4, port: 8081) }
        defer { close(listener) }
        let received = OnAThread { LabSocket.acceptAndCount(listener) }
        let clientPort = try NetworkNamespace.run(client.namespace) { try LabSocket.sendTCP(to: server.ipv4, port: 8081, bytes: bytes) }
        #expect(try received.join() == bytes)
        let volumeLines = { (pod: String) in
            env.log.split(separator: "\n").filter { $0.contains("flow volume") && $0.contains("pod=\(pod)") }
        }
        _ = waitUntil(timeout: 3) { volumeLines("\(client.ipv4):\(clientPort)").count >= 3 }
        #expect(volumeLines("\(client.ipv4):\(clientPort)").count == 3, "\(env.log)")
        #expect(volumeLines("\(server.ipv4):8081").isEmpty, "the server's side of the flow sent nothing of its own")
    }

    @Test func aNewPodInterfaceIsAttachedWithinOneSecond() throws {
        let env = try AgentLab(pods: 1)
        try env.startAgent()
        let pod = try env.lab.addPod()
        let index = try env.ifindex(of: pod.hostInterface)
        let seconds = waitUntil(timeout: 5) { env.attachedIfindexes().contains(index) }
        let took = try #require(seconds, "new veth not attached within 5 s; log:\n\(env.log)")
        #expect(took < 1.0, "attach took \(took) s")
        #expect(try env.attachedPrograms(pod.hostInterface).allSatisfy { $0 != nil })
    }

    @Test func aRestartedAgentAdoptsPinnedMapsAndTrackingNeverStops() throws {
        let env = try AgentLab(pods: 2)
        try env.startAgent()
        let flow = try CountedUDPFlow(env, port: 7000, sourcePort: 7100)
        try flow.send(10)
        #expect(try flow.packets() == 10)

        env.stopAgent()
        // Agent down: programs stay attached and keep counting into the pinned map.
        #expect(try env.attachedPrograms(env.lab.pods[0].hostInterface).allSatisfy { $0 != nil })
        try flow.send(5)
        #expect(try flow.packets() == 15)

        try env.startAgent()
        #expect(env.log.contains("adopted=true"), "second start must adopt the pinned maps; log:\n\(env.log)")
        try flow.send(5)
        #expect(try flow.packets() == 20, "the flow's counters survive the restart")
        #expect(flow.received() == 20)
    }

    /// On this kernel `auto` attaches through TCX; `clsact` is the path of
    /// kernels before 6.6.
    @Test(arguments: [TCAttachMode.auto, .clsact])
    func uninstallRemovesPodwallsStateAndNothingElse(mode: TCAttachMode) throws {
        let env = try AgentLab(pods: 2)
        let (mine, shared) = (env.lab.pods[0].hostInterface, env.lab.pods[1].hostInterface)
        // Another tool's clsact qdisc and filter on the second pod's veth, before podwall.
        try env.lab.inNode(["tc", "qdisc", "add", "dev", shared, "clsact"])
        try env.lab.inNode([
            "tc", "filter", "add", "dev", shared, "ingress", "prio", "10", "protocol", "all", "u32", "match", "u32", "0", "0", "classid",
            "1:1"
        ])
        try env.startAgent(extraArguments: ["--set", "tc_attach=\(mode.rawValue)"])
        env.stopAgent()

        // auto attaches through TCX where the kernel has it (Linux >= 6.6; TCXAttachTests
        // hold it to that on this machine), else through clsact.
        let throughTCX = env.log.contains("attach=tcx")
        #expect(env.log.contains(mode == .clsact ? "attach=clsact" : "attach="), "\(env.log)")
        let report = try env.podwall(["uninstall"]).output
        let expected = throughTCX ? "removed 4 TCX links, 0 filters, 0 qdiscs" : "removed 0 TCX links, 4 filters, 1 qdiscs"
        #expect(report.contains(expected), "\(report)")
        #expect(try env.attachedPrograms(mine) == [nil, nil])
        #expect(try env.attachedPrograms(shared) == [nil, nil])
        #expect(!(try env.lab.inNode(["tc", "qdisc", "show", "dev", mine]).output.contains("clsact")))
        let foreign = try env.lab.inNode(["tc", "filter", "show", "dev", shared, "ingress"]).output
        #expect(foreign.contains("u32"), "the other tool's filter must survive: \(foreign)")
        #expect(!FileManager.default.fileExists(atPath: env.lab.pinRoot), "pins must be gone")
    }
}

@Suite(.enabled(if: Privileged.enabled, Privileged.reason))
struct CommandLineTests {
    @Test(arguments: [
        [], ["run"], ["flows"], ["status"], ["uninstall"], ["demo"], ["replay"], ["blocklist"], ["blocklist", "load"],
        ["blocklist", "add"], ["blocklist", "del"], ["blocklist", "list"], ["blocklist", "check"], ["blocklist", "stats"],
        ["quarantine"], ["quarantine", "list"], ["quarantine", "add"], ["quarantine", "release"],
        ["config"], ["capture"], ["pcap"], ["pcap", "list"], ["pcap", "export"], ["eval"]
    ])
    func everyCommandHasHelp(command: [String]) throws {
        let result = try Shell.run([PodwallBinary.path] + command + ["--help"])
        // The usage names the command typed, also where podwall-lab answers.
        #expect(result.output.contains("USAGE: podwall \(command.joined(separator: " "))"), "\(result.output)")
        #expect(result.output.contains("OVERVIEW:") || command.isEmpty == false)
    }

    @Test func readingMissingPinsIsOneClearSentence() throws {
        let result = try Shell.run([PodwallBinary.path, "flows", "--pin-root", "/sys/fs/bpf/podwall-missing-\(getpid())"], check: false)
        #expect(result.status != 0)
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1, "one sentence, not a libbpf dump: \(result.error)")
        #expect(result.error.contains("No such file or directory (ENOENT)"))
        #expect(result.error.contains("nothing is pinned there"))
    }

    /// The path that crashed with "double free or corruption" on Linux 5.10
    /// and 6.1: the kernel refuses the object (here its flow map, 2^32
    /// entries: E2BIG; in the 5.10 guest of the kernel matrix also a
    /// program, see ObjectLoadTests) and the agent must end in one sentence.
    @Test func aDataPathTheKernelRefusesEndsTheAgentInOneSentenceLeavingNothing() throws {
        let pinRoot = "/sys/fs/bpf/podwall-refused-\(getpid())"
        defer { _ = BPFFilesystem.removePins(under: pinRoot) }
        let result = try Shell.run(
            [
                PodwallBinary.path, "run", "--pin-root", pinRoot, "--interfaces", "podwall-none*",
                "--set", "flow_entries=4294967295"
            ], check: false)
        #expect(result.status == 1, "exit \(result.status): \(result.error)")
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1, "one sentence, not a libbpf dump or a crash: \(result.error)")
        #expect(result.error.hasPrefix("Error: loading BPF object tc"), "\(result.error)")
        #expect(result.error.contains("E2BIG"), "\(result.error)")
        #expect(!BPFFilesystem.exists(pinRoot), "a refused first load leaves no pin root: \(BPFFilesystem.pinNames(under: pinRoot))")
    }
}
