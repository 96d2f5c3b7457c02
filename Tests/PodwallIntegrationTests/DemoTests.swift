import Foundation
import PodwallLab
import PodwallTestSupport
import Testing

@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct DemoTests {
    @Test(.enabled(if: Shell.isInstalled("nc") && Shell.isInstalled("curl"), "needs nc and curl"))
    func theDemoDetectsEveryScenarioAndLeavesNothingBehind() throws {
        let result = try Shell.run([PodwallBinary.path, "demo"], check: false)
        #expect(result.succeeded, "\(result.output)\n\(result.error)")
        let summary = result.output.components(separatedBy: "Summary").last ?? ""
        for kind in ["exfiltration", "protocol_mismatch", "blocklist_hit"] + (Shell.isInstalled("nmap") ? ["port_scan"] : [])
            + (Shell.isInstalled("runc") ? ["reverse_shell", "drop_execute", "breakout"] : [])
        {
            #expect(summary.range(of: "\(kind) +\(kind)", options: .regularExpression) != nil, "\(kind) expected and seen:\n\(summary)")
        }
        #expect(summary.range(of: "none +none", options: .regularExpression) != nil, "plain HTTP stays quiet:\n\(summary)")
        // The lab is named after the demo's process: nothing of it may remain.
        let id = try #require(result.output.firstMatch(of: /pwlab-\d+-\d+/).map { String($0.output) })
        // The demo leaves its agent's log, alerts and captures for the user to read; the test does not.
        defer {
            for file in ["agent.log", "alerts.jsonl", "captures"] { try? FileManager.default.removeItem(atPath: "/tmp/\(id)-\(file)") }
        }
        #expect(!(try Shell.run(["ip", "netns", "list"]).output.contains(id)))
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/bpf/\(id)"))
        #expect(!(try Shell.run(["sh", "-c", "ls /sys/fs/cgroup/unified /sys/fs/cgroup 2>/dev/null"]).output.contains(id)))
        if Shell.isInstalled("runc") {
            #expect(result.output.contains("killed in the kernel before the shell read a command"), "\(result.output)")
            #expect(result.output.contains("killed in the kernel at exec, before its first instruction"), "\(result.output)")
            #expect(result.output.contains("killed at the syscall"), "\(result.output)")
            #expect(
                !(try Shell.run(["sh", "-c", "ls /run /sys/fs/cgroup/pids"]).output.contains(id)),
                "the container's state and cgroups are gone")
        }
    }
}
