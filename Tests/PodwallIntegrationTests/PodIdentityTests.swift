import Foundation
import PodwallLab
import PodwallTestSupport
import Testing

/// Alerts name the pod: host veth → peer network namespace → a process's
/// kubepods cgroup → the kubelet's namespace/name; or the namespace's name.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct PodIdentityTests {
    static let uid = "0b3c1234-5678-4abc-9def-0123456789ab"

    static func alerts(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// An SSH banner from `client` to a listener on port 80 in `server`: a protocol_mismatch alert.
    func tunnel(_ env: AgentLab, from client: Lab.Pod, to server: Lab.Pod, alertsFile: String) throws -> [String: Any]? {
        _ = try env.lab.spawnInPod(server, ["sh", "-c", "nc -l -p 80 > /dev/null"])
        usleep(300_000)
        try env.lab.inPod(client, ["sh", "-c", "printf 'SSH-2.0-x\\r\\n' | nc -q 1 -w 2 \(server.ipv4) 80"], check: false)
        _ = waitUntil(timeout: 5) { Self.alerts(alertsFile).contains { $0["kind"] as? String == "protocol_mismatch" } }
        return Self.alerts(alertsFile).first { $0["kind"] as? String == "protocol_mismatch" }
    }

    @Test(.enabled(if: Shell.isInstalled("nc"), "needs nc"))
    func aLabPodIsNamedByItsNetworkNamespace() throws {
        let env = try AgentLab(pods: 2)
        let alertsFile = "/tmp/\(env.lab.id)-alerts.jsonl"
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        try env.startAgent(extraArguments: ["--alerts", alertsFile, "--response", "protocol_mismatch=alert", "--api", ""])
        usleep(2_500_000)  // one pass of the identity resolver
        let alert = try #require(try tunnel(env, from: env.lab.pods[0], to: env.lab.pods[1], alertsFile: alertsFile), "\(env.log)")
        #expect((alert["source"] as? [String: Any])?["pod_name"] as? String == env.lab.pods[0].namespace, "\(alert)")
    }

    @Test(.enabled(if: Shell.isInstalled("curl"), "needs curl"))
    func flowsNameTheirPodWhileAnAgentRuns() throws {
        let env = try AgentLab(pods: 2)
        try env.startAgent()
        usleep(2_500_000)  // one pass of the identity resolver
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        try NetworkNamespace.run(client.namespace) {
            try LabSocket.sendUDP(to: server.ipv4, port: 9000, sourcePort: 9100, count: 3, size: 10)
        }
        let pods = try env.api("GET", "/v1/pods").body
        #expect(pods.contains("\"pod_name\":\"\(client.namespace)\""), "\(pods)")
        let flow = try #require(
            try env.flows().first { $0["interface"] as? String == client.hostInterface && $0["remote_port"] as? Int == 9000 })
        #expect(flow["pod_name"] as? String == client.namespace, "\(flow)")
        let table = try env.podwall(["flows"]).output
        #expect(table.hasPrefix("INTERFACE  POD NAME") && table.contains(client.namespace), "\(table)")
    }

    @Test(.enabled(if: Shell.isInstalled("nc") && Shell.isInstalled("python3"), "needs nc and python3"))
    func aKubernetesPodIsNamedByTheKubeletFromItsCgroup() throws {
        let env = try AgentLab(pods: 2)
        let cgroupRoot = try #require(env.lab.cgroupPath)
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        // A pod's process as the kubelet lays it out: kubepods/burstable/pod<UID>/<container>.
        let podCgroup = "\(cgroupRoot)/kubepods/burstable/pod\(Self.uid)"
        try FileManager.default.createDirectory(atPath: podCgroup, withIntermediateDirectories: true)
        let kubelet = "/tmp/\(env.lab.id)-kubelet", alertsFile = "/tmp/\(env.lab.id)-alerts.jsonl"
        let pause = try env.lab.spawnInPod(client, ["sleep", "60"])
        defer {  // the lab removes the nested cgroups
            try? FileManager.default.removeItem(atPath: kubelet)
            try? FileManager.default.removeItem(atPath: alertsFile)
        }
        _ = waitUntil(timeout: 2) {
            (try? String(contentsOfFile: "/proc/\(pause.processIdentifier)/cmdline", encoding: .utf8))?.hasPrefix("sleep") == true
        }
        try "\(pause.processIdentifier)".write(toFile: "\(podCgroup)/cgroup.procs", atomically: false, encoding: .utf8)
        // A fake kubelet in the node namespace serving /pods.
        try FileManager.default.createDirectory(atPath: kubelet, withIntermediateDirectories: true)
        try #"{"kind":"PodList","items":[{"metadata":{"name":"web-7d9f","namespace":"shop","uid":"\#(Self.uid)"}}]}"#
            .write(toFile: "\(kubelet)/pods", atomically: true, encoding: .utf8)
        try env.lab.spawn(env.lab.nodeCommand(["python3", "-m", "http.server", "10255", "--bind", "127.0.0.1", "--directory", kubelet]))
        usleep(500_000)
        try env.startAgent(extraArguments: [
            "--alerts", alertsFile, "--response", "protocol_mismatch=alert", "--api", "",
            "--set", "kubernetes.kubelet_pods_url=http://127.0.0.1:10255/pods"
        ])
        usleep(2_500_000)
        let alert = try #require(try tunnel(env, from: client, to: server, alertsFile: alertsFile), "\(env.log)")
        #expect((alert["source"] as? [String: Any])?["pod_name"] as? String == "shop/web-7d9f", "\(alert)\n\(env.log)")
    }
}

/// Alerts of the cgroup hooks name the pod too, though the hooks see a
/// process, not a packet: its network namespace gives the pod interface and
/// address; a process outside every pod is named by its cgroup's path.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct RefusedConnectIdentityTests {
    /// The refused nc exits at once; the shell that ran it stays a moment in
    /// the same cgroup and namespace, as a pod's other processes do.
    static func refusedConnect(to address: String) -> [String] {
        ["sh", "-c", "nc -z -w 2 \(address) 8080; sleep 2"]
    }

    func refusal(_ env: AgentLab, alertsFile: String, after count: Int) -> [String: Any]? {
        _ = waitUntil(timeout: 5) { PodIdentityTests.alerts(alertsFile).count > count }
        return PodIdentityTests.alerts(alertsFile).dropFirst(count).first {
            $0["kind"] as? String == "blocklist_hit" && ($0["source"] as? [String: Any])?["process"] != nil
        }
    }

    @Test(.enabled(if: Shell.isInstalled("nc"), "needs nc"))
    func aRefusedConnectNamesThePodOrItsCgroup() throws {
        let env = try AgentLab(pods: 2)
        let cgroup = try #require(env.lab.cgroupPath)
        let alertsFile = "/tmp/\(env.lab.id)-alerts.jsonl"
        defer { try? FileManager.default.removeItem(atPath: alertsFile) }
        try env.startAgent(extraArguments: ["--cgroup", cgroup, "--alerts", alertsFile, "--api", ""])
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        try env.podwall(["blocklist", "add", server.ipv4])
        usleep(2_500_000)  // one pass of the identity resolver

        try env.lab.inPodCgroup(client, Self.refusedConnect(to: server.ipv4), check: false)
        let alert = try #require(refusal(env, alertsFile: alertsFile, after: 0), "\(env.log)")
        let source = try #require(alert["source"] as? [String: Any])
        #expect(source["pod_name"] as? String == client.namespace, "\(alert)")
        #expect(source["interface"] as? String == client.hostInterface, "\(alert)")
        #expect(source["address"] as? String == client.ipv4, "\(alert)")
        let cgroupName = "/" + (cgroup as NSString).lastPathComponent
        #expect((source["process"] as? [String: Any])?["cgroup_path"] as? String == cgroupName, "\(alert)")

        // The same cgroup, the node's own namespace: no pod interface, named by the cgroup.
        let before = PodIdentityTests.alerts(alertsFile).count
        try Shell.run(
            ["sh", "-c", "echo $$ > \(cgroup)/cgroup.procs && exec \"$@\"", "sh"] + Self.refusedConnect(to: server.ipv4),
            check: false)
        let outside = try #require(refusal(env, alertsFile: alertsFile, after: before), "\(env.log)")
        #expect((outside["source"] as? [String: Any])?["pod_name"] as? String == cgroupName, "\(outside)")
    }
}
