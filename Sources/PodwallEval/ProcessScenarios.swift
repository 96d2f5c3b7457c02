import Foundation
import PodwallLab

/// The process scenarios: reverse shells and their look-alikes, played in a
/// runc container of the attacker pod (`EvalPods.app`) against a listener in
/// the internet (`ProcessServices`), which sends every connection the
/// shell's first command: `touch /shared/ran-<n>`. A marker file after a run
/// is a shell that ran it.
extension EvalScenario {
    public static let processes: [EvalScenario] = [
        reverseShell("revshell-bash-tcp", tools: ["bash"]) { ReverseShells.bashDevTCP($0, $1) },
        reverseShell("revshell-python-dup", tools: ["python3"]) {
            ReverseShells.pythonExecs(["sh", "-i"], connectedTo: $0, port: $1)
        },
        reverseShell("revshell-perl", tools: ["perl"]) { ReverseShells.perl($0, $1) },
        reverseShell("revshell-self-redirect", tools: ["bash"]) { ReverseShells.selfRedirect($0, $1) },
        // nc is a network tool too: its own alert is by design.
        reverseShell("revshell-mkfifo-nc", accepted: ["network_tool"], tools: ["nc"]) { ReverseShells.mkfifoNetcat($0, $1) },
        reverseShell("revshell-python-pty", tools: ["python3"]) { ReverseShells.pythonPTYSpawn($0, $1) },
        reverseShell("revshell-python-pty-relay", tools: ["python3"]) { ReverseShells.pythonPTYRelay($0, $1, seconds: 3) },
        reverseShell("revshell-socat", tools: ["socat"]) { ReverseShells.socat($0, $1, pty: false) },
        reverseShell("revshell-socat-pty", tools: ["socat"]) { ReverseShells.socat($0, $1, pty: true) },
        reverseShell("revshell-busybox-nc-e", tools: ["busybox"]) { ReverseShells.busyboxNetcat($0, $1) },
        reverseShell("revshell-ncat-sh-exec", accepted: ["network_tool"], tools: ["ncat"]) { ReverseShells.ncat($0, $1) },
        reverseShell("revshell-php", tools: ["php"]) { ReverseShells.php($0, $1) },
        inContainer("revshell-via-service", "reverse_shell", tools: ["python3", "curl"]) { pods, _ in
            // The attacker's request makes the pod's vulnerable service start the shell.
            let command = ReverseShells.bashDevTCP(Lab.internetAddress, ProcessServices.shellPort)[2]
            try ProcessServices.requestCommand(pods, "bash -c '\(command)'")
        },
        inContainer("network-tool", "network_tool", tools: ["curl"]) { pods, app in
            try pods.lab.exec(in: app, ["curl", "-s", "-m", "2", "-o", "/dev/null", "http://\(pods.web.ipv4)/"], check: false)
        },
        // What `kubectl exec -it` gives: a shell on a pty, fed commands, no socket.
        inContainer("shell-pty", nil, tools: ["script"]) { pods, app in
            try Shell.run(
                pods.lab.execCommand(in: app, ["timeout", "-s", "KILL", "5", "script", "-qc", "sh -i", "/dev/null"]),
                input: "echo hello\nls / > /dev/null\nid\nexit\n", check: false)
        },
        // curl is a network tool: each health check's curl raises its
        // `network_tool` alert by design (counted apart); no `reverse_shell`.
        inContainer("health-check-script", nil, accepted: ["network_tool"], tools: ["curl"]) { pods, app in
            for _ in 0..<5 {
                try pods.lab.exec(in: app, ["sh", "-c", "curl -fs -m 2 http://\(pods.web.ipv4)/ > /dev/null"], check: false)
            }
        },
        // A service holding its connection (a database's) runs its usual `sh -c` workers.
        inContainer("service-workers", nil, tools: ["python3"]) { pods, app in
            try pods.lab.exec(
                in: app,
                [
                    "python3", "-c",
                    "import socket,subprocess;s=socket.create_connection((\"\(pods.web.ipv4)\",80));[subprocess.run([\"sh\",\"-c\",\"ls / > /dev/null; date > /dev/null\"]) for _ in range(5)];s.close()"
                ], check: false)
        },
        // A container's entrypoint script: shells that set things up, then exec the program.
        inContainer("startup-script", nil, tools: []) { pods, app in
            let script = """
                set -e
                mkdir -p /tmp/app
                echo port=8080 > /tmp/app/config
                for part in a b c; do echo $part >> /tmp/app/parts; done
                test -s /tmp/app/config
                exec python3 -c 'import time; time.sleep(0.2)'
                """
            try pods.lab.exec(
                in: app, ["sh", "-c", "cat > /tmp/entrypoint.sh <<'EOF'\n\(script)\nEOF\nsh /tmp/entrypoint.sh; rm -rf /tmp/app"],
                check: false)
        }
    ]

    /// A reverse shell to the listener, bounded to 8 s (one that survived
    /// gets EOF when the listener closes, 2 s after its command).
    static func reverseShell(
        _ name: String, accepted: [String] = [], tools: [String], _ command: @escaping @Sendable (String, UInt16) -> [String]
    ) -> EvalScenario {
        inContainer(name, "reverse_shell", accepted: accepted, tools: tools) { pods, app in
            let result = try pods.lab.exec(
                in: app, ["timeout", "-s", "KILL", "8"] + command(Lab.internetAddress, ProcessServices.shellPort), check: false)
            // For the progress line: how the command ended (137: SIGKILL), and its first complaint.
            let complaint = result.error.split(separator: "\n").first.map { ": " + $0.prefix(120) } ?? ""
            pods.notes.add("exit status \(result.status)\(complaint)")
        }
    }
}
