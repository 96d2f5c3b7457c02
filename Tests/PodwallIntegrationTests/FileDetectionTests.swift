import Foundation
import PodwallLab
import PodwallTestSupport
import Testing

/// The agent's file and breakout pillar end to end: real containers, real
/// syscalls, one alert that names the pod and the process, the kernel's
/// kill before the attack's next step, and the agent's response.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct FileDetectionTests {
    typealias Scenario = ProcessDetectionTests.Scenario

    @Test func aBreakoutIsKilledAtTheSyscallAndItsPodQuarantined() throws {
        let scenario = try Scenario()
        let pod = scenario.env.lab.pods[0]
        let result = try scenario.env.lab.exec(in: scenario.container, ["unshare", "-Urm", "touch", "/shared/ran"], check: false)

        let alert = try scenario.waitForAlert(kind: "breakout")
        #expect(result.status == 128 + SIGKILL, "killed: \(result)")
        #expect(!FileManager.default.fileExists(atPath: scenario.container.sharedDirectory + "/ran"), "unshare ran its command")
        let source = try #require(alert["source"] as? [String: Any])
        #expect(source["address"] as? String == pod.ipv4 && source["interface"] as? String == pod.hostInterface, "\(source)")
        let process = try #require(source["process"] as? [String: Any])
        #expect(process["comm"] as? String == "unshare")
        #expect((process["binary"] as? String)?.hasSuffix("/unshare") == true, "\(process)")
        #expect((process["exec_id"] as? String)?.contains(":") == true, "\(process)")
        let evidence = try #require(alert["evidence"] as? [String: Any])
        #expect(evidence["technique"] as? String == "unshare" && evidence["killed"] as? Bool == true, "\(evidence)")
        let actions = try #require(alert["actions"] as? [[String: Any]])
        #expect(actions.contains { $0["type"] as? String == "kill" && $0["at_exec"] as? Bool == true }, "\(actions)")
        #expect(actions.contains { $0["type"] as? String == "quarantine" }, "\(actions)")
        #expect(alert["severity"] as? String == "critical")

        // The agent's API lists the pod's interface as quarantined.
        let answer = try scenario.env.api("GET", "/v1/quarantine")
        let entries = (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["entries"] as? [[String: Any]]
        #expect(entries?.map { $0["interface"] as? String } == [pod.hostInterface], "\(answer.body)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(scenario.alerts(kind: "breakout").count == 1, "\(scenario.alerts(kind: "breakout"))")
    }

    @Test func aProgramDroppedInTmpIsKilledAtExecAndReported() throws {
        let scenario = try Scenario()
        let result = try scenario.env.lab.exec(
            in: scenario.container, ["sh", "-c", "cat /usr/bin/touch > /tmp/.x && chmod 755 /tmp/.x && /tmp/.x /shared/ran"],
            check: false)

        let alert = try scenario.waitForAlert(kind: "drop_execute")
        #expect(result.status != 0, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: scenario.container.sharedDirectory + "/ran"), "the dropped program ran")
        let evidence = try #require(alert["evidence"] as? [String: Any])
        #expect(evidence["technique"] as? String == "pod_written" && evidence["path"] as? String == "/tmp/.x", "\(evidence)")
        #expect(evidence["killed"] as? Bool == true && evidence["rule"] as? String == "/tmp/", "\(evidence)")
        #expect((evidence["detail"] as? String)?.hasPrefix("written by sh") == true, "the shell's redirect wrote it: \(evidence)")
        let actions = try #require(alert["actions"] as? [[String: Any]])
        #expect(actions.contains { $0["type"] as? String == "kill" && $0["at_exec"] as? Bool == true }, "\(actions)")
        let process = try #require((alert["source"] as? [String: Any])?["process"] as? [String: Any])
        #expect(process["binary"] as? String == "/tmp/.x", "\(process)")
    }
}
