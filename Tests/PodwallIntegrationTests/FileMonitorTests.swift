import Foundation
import Glibc
import PodwallABI
import PodwallCore
import PodwallDetection
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// The file and breakout programs on real syscalls in real runc containers
/// (whose root is read-only: writable are /tmp, a tmpfs, and /shared).
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct FileMonitorTests {
    typealias ContainerLab = ProcessMonitorTests.ContainerLab

    static let breakoutNames = ["release_agent"]
    static let rules = [
        FileRule("/shared/watched/", .write), FileRule("/shared/secret/", .read, names: ["token"]),
        FileRule("/tmp/", .noExec), FileRule("/shared/deny", [.write, .kill])
    ]

    static func fileEvents(_ env: ContainerLab) throws -> [FileEvent] {
        try env.monitor.drain().compactMap { if case .file(let event) = $0 { event } else { nil } }
    }

    /// A cgroup of the pods' for host processes: a leaf (cgroup v2 puts no
    /// process in a cgroup whose children have controllers).
    static func leafCgroup(_ env: ContainerLab) throws -> String {
        let path = env.mount + Container.podsCgroup(of: env.lab) + "/host-leaf"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func sh(_ env: ContainerLab, _ script: String) throws -> Shell.Result {
        try env.lab.exec(in: env.container, ["sh", "-c", script], check: false)
    }

    @Test func writesAreJudgedByThePathTheKernelResolvedAndUnwatchedOnesStayInTheKernel() throws {
        let env = try ContainerLab(kills: [], fileRules: Self.rules)
        _ = try env.monitor.drain()
        _ = try Self.sh(
            env,
            """
            mkdir -p /shared/watched && echo a > /shared/watched/a && echo b > /shared/other
            cd /shared/watched && echo c > relative
            ln -s /shared/watched/a /tmp/link && echo d >> /tmp/link
            cd /tmp && echo e > /shared/watched/../watched/dotted
            cat /shared/watched/a > /dev/null
            """)
        let writes = try Self.fileEvents(env).filter { $0.operation == .write }
        #expect(Set(writes.map(\.path)) == ["/shared/watched/a", "/shared/watched/relative", "/shared/watched/dotted"], "\(writes)")
        #expect(writes.filter { $0.path == "/shared/watched/a" }.count == 2, "once by name, once through the symlink")
        var file = stat()
        #expect(stat(env.container.sharedDirectory + "/watched/a", &file) == 0)
        #expect(writes.filter { $0.path == "/shared/watched/a" }.allSatisfy { $0.inode == UInt64(file.st_ino) }, "the opened file's inode")
        #expect(writes.allSatisfy { $0.comm == "sh" && $0.ruleID == 0 && !$0.killed && $0.process.cgroupID == env.containerCgroupID })
        #expect(env.monitor.counters.fileEvents == 4)
    }

    @Test func pathSyscallsAreJudgedByTheirNamesAndDotsGoToTheAgent() throws {
        let env = try ContainerLab(kills: [], fileRules: Self.rules)
        _ = try Self.sh(env, "mkdir -p /shared/watched && echo a > /shared/old")
        _ = try env.monitor.drain()
        _ = try Self.sh(
            env,
            """
            mv /shared/old /shared/watched/new && chmod 700 /shared/watched/new
            cd /shared && ln watched/new /shared/watched/hard && ln -s /etc/passwd watched/soft
            rm /shared/watched/../watched/hard; rm /shared/unwatched 2>/dev/null; true
            """)
        let events = try Self.fileEvents(env)
        let rename = try #require(events.first { $0.operation == .rename }, "\(events)")
        #expect(rename.path == "/shared/old" && rename.target == "/shared/watched/new" && rename.ruleID == 0)
        #expect(events.contains { $0.operation == .chmod && $0.path == "/shared/watched/new" && $0.mode & 0o777 == 0o700 })
        #expect(events.contains { $0.operation == .link && $0.target == "/shared/watched/hard" }, "relative to the cwd")
        #expect(
            events.contains { $0.operation == .symlink && $0.target == "/shared/watched/soft" && $0.path == "/etc/passwd" }, "\(events)")
        let unlink = try #require(events.first { $0.operation == .unlink }, "\(events)")
        #expect(unlink.unresolved && unlink.path == "/shared/watched/../watched/hard", "'..' is the agent's to resolve")
        #expect(FileRules(Self.rules).rule(id: nil, path: FileRules.normalized(unlink.path))?.path == "/shared/watched/")
        #expect(!events.contains { $0.path.contains("unwatched") })
    }

    @Test func aReadIsReportedOnlyForAWatchedName() throws {
        let env = try ContainerLab(kills: [], fileRules: Self.rules)
        _ = try Self.sh(env, "mkdir -p /shared/secret && echo s > /shared/secret/token && echo o > /shared/secret/other")
        _ = try env.monitor.drain()
        _ = try Self.sh(env, "cat /shared/secret/token /shared/secret/other > /dev/null")
        let events = try Self.fileEvents(env)
        #expect(events.map(\.operation) == [.read], "\(events)")
        #expect(events.first?.path == "/shared/secret/token" && events.first?.comm == "cat")
    }

    @Test func aDenyRuleKillsTheWriterBeforeItWrites() throws {
        let env = try ContainerLab(kills: [], fileRules: Self.rules)
        _ = try env.monitor.drain()
        let result = try Self.sh(env, "echo x > /shared/deny; touch /shared/after")
        #expect(result.status != 0)
        #expect(!FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/after"), "the shell went on")
        let event = try #require(try Self.fileEvents(env).first)
        #expect(event.killed && event.path == "/shared/deny")
        let size = (try? FileManager.default.attributesOfItem(atPath: env.container.sharedDirectory + "/deny")[.size] as? Int) ?? 0
        #expect(size == 0, "opened (and created) before the kill, never written")
    }

    @Test func aReleaseAgentWrittenAnywhereIsABreakoutKilledBeforeItWrites() throws {
        let env = try ContainerLab(kills: [.breakout], fileRules: Self.rules)
        try env.files?.rules.set(Self.rules, breakoutNames: Self.breakoutNames)
        _ = try Self.sh(env, "mkdir -p /shared/cgroup")
        _ = try env.monitor.drain()
        let result = try Self.sh(env, "echo /shared/payload > /shared/cgroup/release_agent; touch /shared/after")
        #expect(result.status != 0 && !FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/after"))
        let event = try #require(try Self.fileEvents(env).first)
        #expect(event.killed && event.path == "/shared/cgroup/release_agent" && event.ruleID == PW_FILE_RULE_BY_NAME)
    }

    /// A pod's process that kept a directory fd from before its chroot and
    /// opens through it reaches outside its root: a breakout, named by the
    /// path from the namespace's root. A pipe reopened through /proc/self/fd
    /// (the kernel's internal mount) is not. Played by host programs in a
    /// mount namespace of their own, joined to the pod's cgroup: in the
    /// node's they would be taken for the runtime.
    @Test func aFileOpenedOutsideTheProcesssRootIsABreakout() throws {
        let env = try ContainerLab(kills: [.breakout], fileRules: Self.rules)
        let jail = try env.lab.makeTemporaryDirectory()
        let outside = jail + "-outside"
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let escape = [
            "python3", "-c",
            "import os\ntop = os.open('/', os.O_PATH)\nos.chroot('\(jail)')\n"
                + "os.open('\(outside.dropFirst())', os.O_WRONLY | os.O_CREAT, dir_fd=top)\nos.write(1, b'escaped')"
        ]
        _ = try env.monitor.drain()
        let inPod = ["unshare", "-m", "sh", "-c", "echo $$ > \(try Self.leafCgroup(env))/cgroup.procs && exec \"$@\"", "sh"]
        let piped = try Shell.run(inPod + ["sh", "-c", "echo x | (cat > /dev/stdout) | cat"])
        let result = try Shell.run(inPod + escape, check: false)
        #expect(piped.output == "x\n")
        #expect(result.status != 0 && !result.output.contains("escaped"), "\(result)")
        let events = try Self.fileEvents(env)
        let event = try #require(events.first, "\(events)")
        #expect(events.count == 1 && event.outsideRoot && event.killed && event.path == outside, "\(events)")
    }

    /// What runc does on cgroup v2 nodes: in the container's cgroup but still
    /// in the node's mount namespace, it execs a memfd copy of itself, names
    /// itself runc:[2:INIT] and unshares: no drop-and-execute, no breakout.
    @Test func theRuntimeStartingAContainerInItsCgroupIsNeitherADropNorABreakout() throws {
        let env = try ContainerLab(kills: [.breakout, .droppedExec], fileRules: Self.rules)
        _ = try env.monitor.drain()
        let runtime =
            "import os\nfd = os.memfd_create('runc')\nos.write(fd, open('/usr/bin/python3', 'rb').read())\n"
            + "os.execv('/proc/self/fd/%d' % fd, ['runc', '-c', 'import ctypes\\nlibc = ctypes.CDLL(None)\\n"
            + "libc.prctl(15, b\"runc:[2:INIT]\")\\nprint(libc.unshare(0x10000000 | 0x20000))'])"
        let result = try Shell.run(
            [
                "sh", "-c", "echo $$ > \(try Self.leafCgroup(env))/cgroup.procs && exec /usr/bin/python3 -c \"$1\"",
                "sh", runtime
            ],
            check: false)
        #expect(result.status == 0 && result.output == "0\n", "\(result)")
        let events = try env.monitor.drain()
        #expect(!events.contains { if case .breakout = $0 { true } else { false } }, "\(events)")
        let flagged = events.compactMap { if case .exec(let exec) = $0, exec.dropped != nil || exec.killedAtExec { exec } else { nil } }
        #expect(flagged.isEmpty, "\(flagged.map { ($0.filename, $0.dropped, $0.killedAtExec) })")
    }

    @Test func breakoutSyscallsAreKilledAndTheRuntimesOwnSetupIsNot() throws {
        let env = try ContainerLab(kills: [.breakout], fileRules: Self.rules)
        _ = try env.monitor.drain()
        let unshare = try env.lab.exec(in: env.container, ["unshare", "-Urm", "touch", "/shared/unshared"], check: false)
        let nsenter = try env.lab.exec(in: env.container, ["nsenter", "-t", "1", "-m", "touch", "/shared/entered"], check: false)
        let mount = try env.lab.exec(in: env.container, ["mount", "-t", "tmpfs", "none", "/tmp"], check: false)
        // PTRACE_ATTACH (16) to its own child; the child, stopped by the
        // attach and left so by its killed tracer, lets go of the output.
        let ptrace = try env.lab.exec(
            in: env.container,
            [
                "python3", "-c",
                "import ctypes, os, time\npid = os.fork()\nif pid == 0:\n    null = os.open('/dev/null', os.O_RDWR)\n"
                    + "    for fd in (0, 1, 2): os.dup2(null, fd)\n    time.sleep(5)\n    os._exit(0)\n"
                    + "time.sleep(0.5)\nctypes.CDLL(None).ptrace(16, pid, 0, 0)"
            ], check: false)
        // A container started while the programs watch: runc's own mounts and setns are its setup.
        let second = Result { try env.lab.runContainer(in: env.lab.pods[0], name: "second", command: ["sleep", "300"]) }
        let started = Result { try env.lab.exec(in: second.get(), ["true"]) }
        let attempts = try env.monitor.drain().compactMap { if case .breakout(let attempt) = $0 { attempt } else { nil } }
        #expect(throws: Never.self, "runc's own setup, with these attempts: \(attempts)") { try started.get() }

        for result in [unshare, nsenter, mount, ptrace] { #expect(result.status != 0) }
        #expect(!FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/unshared"))
        #expect(!FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/entered"))
        let techniques = Set(attempts.map(\.technique))
        #expect(techniques == [.unshare, .setns, .mount, .ptrace], "\(attempts)")
        #expect(attempts.allSatisfy { $0.killed && !$0.comm.hasPrefix("runc") }, "\(attempts)")
        #expect(attempts.first { $0.technique == .mount }?.detail == "tmpfs")
        #expect(attempts.first { $0.technique == .unshare }.map { $0.argument & 0x1000_0000 != 0 } == true, "CLONE_NEWUSER")
    }

    @Test func aProgramThePodWroteToTmpOrRanFromMemoryIsKilledBeforeItsFirstInstruction() throws {
        let env = try ContainerLab(kills: [.droppedExec], fileRules: Self.rules)
        _ = try env.monitor.drain()
        let dropped = try Self.sh(env, "cp /usr/bin/sh /tmp/dropped && /tmp/dropped -c 'touch /shared/dropped-ran'")
        let elsewhere = try Self.sh(env, "cp /usr/bin/true /shared/tool && /shared/tool")
        let fileless = try env.lab.exec(
            in: env.container,
            [
                "python3", "-c",
                "import os; fd = os.memfd_create('x'); os.write(fd, open('/usr/bin/touch', 'rb').read()); "
                    + "os.execv('/proc/self/fd/%d' % fd, ['x', '/shared/fileless-ran'])"
            ], check: false)
        let execs = try env.monitor.drain().compactMap { if case .exec(let exec) = $0, exec.dropped != nil { exec } else { nil } }

        #expect(dropped.status != 0 && fileless.status != 0)
        #expect(elsewhere.status == 0, "written elsewhere: the agent judges it, the kernel lets it run")
        for marker in ["dropped-ran", "fileless-ran"] {
            #expect(!FileManager.default.fileExists(atPath: env.container.sharedDirectory + "/" + marker), "\(marker)")
        }
        let tmp = try #require(execs.first { $0.filename == "/tmp/dropped" }, "\(execs)")
        #expect(tmp.killedAtExec && tmp.dropped?.inNoExecDirectory == true && tmp.dropped?.writerComm == "cp")
        #expect(execs.contains { $0.filename == "/shared/tool" && !$0.killedAtExec && $0.dropped?.inNoExecDirectory == false })
        #expect(execs.contains { $0.killedAtExec && $0.dropped?.fileless == true }, "\(execs)")
    }

    /// A `#!` script is judged at its interpreter's open of it (at the exec
    /// the kernel has let the script's file go): one the pod wrote to /tmp
    /// is killed before the interpreter reads a line; one written
    /// elsewhere is reported for the agent to judge and runs; one the pod
    /// did not write, or a script given to `sh` as an argument, is not a drop.
    @Test func aScriptThePodWroteIsKilledWhenItsInterpreterOpensItBeforeItReadsALine() throws {
        let env = try ContainerLab(kills: [.droppedExec], fileRules: Self.rules)
        try "#!/bin/sh\ntouch /shared/shipped-ran\n".write(
            toFile: env.container.sharedDirectory + "/shipped.sh", atomically: false, encoding: .utf8)
        chmod(env.container.sharedDirectory + "/shipped.sh", 0o755)
        _ = try env.monitor.drain()
        func drop(_ path: String, _ marker: String) -> String {
            "printf '#!/bin/sh\\ntouch /shared/\(marker)\\n' > \(path) && chmod +x \(path) && \(path)"
        }
        let tmp = try Self.sh(env, drop("/tmp/drop.sh", "script-ran"))
        // env execs sh, which opens the script: the script is still waited for.
        let viaEnv = try Self.sh(
            env, "printf '#!/usr/bin/env sh\\ntouch /shared/env-ran\\n' > /tmp/env.sh && chmod +x /tmp/env.sh && /tmp/env.sh")
        let elsewhere = try Self.sh(env, drop("/shared/tool.sh", "tool-ran"))
        let shipped = try Self.sh(env, "/shared/shipped.sh")
        let argument = try Self.sh(env, "printf 'touch /shared/argument-ran\\n' > /tmp/arg.sh && sh /tmp/arg.sh")
        let scripts = try Self.fileEvents(env).filter { $0.operation == .script }
        let shared = env.container.sharedDirectory

        #expect(tmp.status != 0 && !FileManager.default.fileExists(atPath: shared + "/script-ran"), "\(tmp)")
        #expect(viaEnv.status != 0 && !FileManager.default.fileExists(atPath: shared + "/env-ran"), "\(viaEnv)")
        #expect(elsewhere.status == 0 && FileManager.default.fileExists(atPath: shared + "/tool-ran"), "\(elsewhere)")
        #expect(shipped.status == 0 && argument.status == 0)
        let killed = try #require(scripts.first { $0.path == "/tmp/drop.sh" }, "\(scripts)")
        #expect(killed.killed && killed.comm == "drop.sh")
        #expect(scripts.contains { $0.path == "/shared/tool.sh" && !$0.killed }, "\(scripts)")
        #expect(scripts.contains { $0.path == "/tmp/env.sh" && $0.killed }, "\(scripts)")
        #expect(scripts.count == 3, "neither the shipped script nor one given to sh: \(scripts)")
    }
}
