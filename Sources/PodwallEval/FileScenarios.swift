import Foundation
import PodwallLab

/// The file and breakout pillar's scenarios (#18 point 7). Each run plays
/// in a new workload (`BaselineWorkload`) whose container has a writable
/// root holding a node image's files (`ContainerRoot.writable`), against
/// the agent with the learning window on (`EvalRunner.learningSeconds`).
/// Every workload first starts its app (`appStart`), inside the window.
///
/// - Breakouts and programs killed at exec play at once, inside the
///   window: they are reported whatever the workload learned. A marker file
///   (`/shared/ran-1`) is the attack's next step, which runs only if the
///   kernel let the syscall or the program go on.
/// - Sensitive writes and reads, and a program written outside /tmp, play
///   after the window (`afterLearning`): reported because the workload
///   never did that while learning.
/// - The benign scenarios do their work inside the window and the same
///   again after it: nothing is expected either time.
extension EvalScenario {
    public static let files: [EvalScenario] = [
        fileAttack("file-write-etc-shadow", "sensitive_write") { pods, workload in
            try afterLearning(pods, workload, "echo 'backdoor:$6$lab$hash:20000:0:99999:7:::' >> /etc/shadow")
        },
        fileAttack("file-ssh-authorized-key", "sensitive_write") { pods, workload in
            try afterLearning(
                pods, workload, "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttackersKey eve@evil' >> /root/.ssh/authorized_keys")
        },
        // The app never read its token: a shell's cat is the first reader, after the window.
        fileAttack("file-read-sa-token", "sensitive_read", binary: "cat") { pods, workload in
            try afterLearning(pods, workload, "cat \(ContainerRoot.serviceAccountDirectory)/token > /dev/null")
        },
        fileAttack("file-drop-exec-tmp", "drop_execute", marker: true) { pods, workload in
            try run(pods, workload, ["sh", "-c", "cat /usr/bin/touch > /tmp/.x && chmod 755 /tmp/.x && /tmp/.x /shared/ran-1"])
        },
        // A `#!` script: judged at its interpreter's open of it, killed
        // there before the interpreter reads its first line.
        fileAttack("file-drop-script-tmp", "drop_execute", marker: true) { pods, workload in
            try run(
                pods, workload,
                ["sh", "-c", "printf '#!/bin/sh\\ntouch /shared/ran-1\\n' > /tmp/.s && chmod 755 /tmp/.s && /tmp/.s"])
        },
        // Written outside /tmp, /dev/shm and /var/tmp: not killed, reported
        // after the window; the program, and chmod, are also binaries the
        // workload never ran (their `unexpected_process` alerts are by design).
        fileAttack("file-drop-exec-opt", "drop_execute", accepted: ["unexpected_process"]) { pods, workload in
            try afterLearning(pods, workload, "cat /usr/bin/true > /opt/.x && chmod 755 /opt/.x && /opt/.x")
        },
        fileAttack("file-memfd-exec", "drop_execute", marker: true) { pods, workload in
            try run(
                pods, workload,
                [
                    "python3", "-c",
                    "import os; fd = os.memfd_create('x'); os.write(fd, open('/usr/bin/touch', 'rb').read()); "
                        + "os.execv('/proc/self/fd/%d' % fd, ['x', '/shared/ran-1'])"
                ])
        },
        // The release_agent escape needs a cgroup v1 hierarchy mounted
        // first; the mount is the breakout (without CAP_SYS_ADMIN it fails
        // anyway; the kernel kills mount at its entry).
        fileAttack("file-cgroup-release-agent", "breakout", marker: true) { pods, workload in
            try run(
                pods, workload,
                [
                    "sh", "-c",
                    "mkdir -p /tmp/cgrp && mount -t cgroup -o memory cgroup /tmp/cgrp "
                        + "&& echo /tmp/payload > /tmp/cgrp/release_agent && touch /shared/ran-1"
                ])
        },
        fileAttack("file-unshare-userns", "breakout", marker: true) { pods, workload in
            try run(pods, workload, ["unshare", "-Urm", "touch", "/shared/ran-1"])
        },
        fileAttack("file-nsenter-init", "breakout", marker: true) { pods, workload in
            try run(pods, workload, ["nsenter", "-t", "1", "-m", "touch", "/shared/ran-1"])
        },
        fileBenign(
            "file-app-logs-and-cache",
            "for i in $(seq 20); do echo \"GET /item/$i 200\" >> /var/log/app/access.log; echo data > /tmp/cache/item-$i; done"),
        // An atomic rewrite of the app's config (not under a watched path), then its reload reading it.
        fileBenign(
            "file-config-reload",
            "printf 'log_level: debug\\ncache: /tmp/cache\\n' > /etc/app/app.conf.new && mv /etc/app/app.conf.new /etc/app/app.conf "
                + "&& python3 -c 'open(\"/etc/app/app.conf\").read()'"),
        // As a package manager installs a tool and runs it: the write under
        // /usr/local/bin/ and the pod-written program are learned inside the
        // window, so the same install after it is quiet.
        fileBenign("file-package-install-learned", "install -m 755 /usr/bin/true /usr/local/bin/app-tool && app-tool"),
        fileBenign(
            "file-log-rotation",
            "echo line >> /var/log/app/app.log && mv /var/log/app/app.log /var/log/app/app.log.1 && : > /var/log/app/app.log")
    ]

    /// The app's start, inside the learning window: it touches no watched path.
    static let appStart = """
        mkdir -p /var/log/app /tmp/cache
        cat /etc/app/app.conf > /dev/null
        echo started >> /var/log/app/app.log
        exec python3 -c 'import time; time.sleep(0.1)'
        """

    /// Runs `command` in the workload; its exit status goes on the progress line.
    static func run(_ pods: EvalPods, _ workload: BaselineWorkload, _ command: [String]) throws {
        let result = try pods.lab.exec(in: workload.container, command, check: false)
        let complaint = result.error.split(separator: "\n").first.map { ": " + $0.prefix(120) } ?? ""
        pods.notes.add("exit status \(result.status)\(complaint)")
    }

    /// `script` with `sh -c` once the workload's learning window is over.
    static func afterLearning(_ pods: EvalPods, _ workload: BaselineWorkload, _ script: String) throws {
        workload.wait(untilLearnedFor: EvalRunner.learningSeconds, margin: learningMargin)
        try run(pods, workload, ["sh", "-c", script])
    }

    /// An attack in a new workload, after its app started: `play` decides
    /// when (at once, or `afterLearning`).
    static func fileAttack(
        _ name: String, _ expected: String, accepted: [String] = [], binary: String? = nil, marker: Bool = false,
        _ play: @escaping @Sendable (EvalPods, BaselineWorkload) throws -> Void
    ) -> EvalScenario {
        fileScenario(name, expected, accepted: accepted, binary: binary, marker: marker, play)
    }

    /// Benign work done inside the window and the same again after it.
    static func fileBenign(_ name: String, _ work: String) -> EvalScenario {
        fileScenario(name, nil, accepted: [], binary: nil, marker: false) { pods, workload in
            try pods.lab.exec(in: workload.container, ["sh", "-c", work], check: false)
            try afterLearning(pods, workload, work)
        }
    }

    static func fileScenario(
        _ name: String, _ expected: String?, accepted: [String], binary: String?, marker: Bool,
        _ play: @escaping @Sendable (EvalPods, BaselineWorkload) throws -> Void
    ) -> EvalScenario {
        var scenario = inNewWorkload(name, expected, accepted: accepted, binary: binary, tools: ["python3"]) { pods, workload in
            try pods.lab.exec(in: workload.container, ["sh", "-c", appStart], check: false)
            try play(pods, workload)
        }
        scenario.group = .file
        scenario.workloadRoot = .writable
        scenario.countsMarkers = marker
        return scenario
    }
}
