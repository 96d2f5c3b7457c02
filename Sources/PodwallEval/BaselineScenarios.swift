import Foundation
import PodwallLab

/// The process baseline's scenarios (#17 point 7): each run a new workload
/// (`BaselineWorkload`: a container of a pod the agent never saw) learns for
/// `EvalRunner.learningSeconds` from its first exec, and its programs are
/// judged after that against what it ran while learning.
extension EvalScenario {
    public static let baseline: [EvalScenario] = [
        // What it ran while learning, again, then a program it never ran:
        // one `unexpected_process` alert, naming that program, and no other.
        inNewWorkload("unexpected-binary", "unexpected_process", binary: "uname", tools: ["python3"]) { pods, workload in
            try runStartupScript(pods, workload)
            workload.wait(untilLearnedFor: EvalRunner.learningSeconds, margin: learningMargin)
            try runStartupScript(pods, workload)
            try pods.lab.exec(in: workload.container, ["uname", "-a"], check: false)
        },
        // The start-up script inside the window, and the same programs again
        // after it (the entrypoint run again, as a restarted container does): no alert.
        inNewWorkload("startup-script-learning", nil, tools: ["python3"]) { pods, workload in
            try runStartupScript(pods, workload)
            workload.wait(untilLearnedFor: EvalRunner.learningSeconds, margin: learningMargin)
            try runStartupScript(pods, workload)
        }
    ]

    /// After the window, before the programs judged: the window opens at the
    /// container's first exec, which `BaselineWorkload.started` follows by
    /// little; this covers that and the agent's lag reading the exec.
    static let learningMargin = 1.5

    /// An entrypoint script: shells that set things up, then `exec python3`.
    static func runStartupScript(_ pods: EvalPods, _ workload: BaselineWorkload) throws {
        let script = """
            set -e
            mkdir -p /tmp/app
            echo port=8080 > /tmp/app/config
            for part in a b c; do echo $part >> /tmp/app/parts; done
            cat /tmp/app/config > /dev/null
            test -s /tmp/app/config
            exec python3 -c 'import time; time.sleep(0.2)'
            """
        try pods.lab.exec(
            in: workload.container,
            ["sh", "-c", "cat > /tmp/entrypoint.sh <<'EOF'\n\(script)\nEOF\nsh /tmp/entrypoint.sh; rm -rf /tmp/app"], check: false)
    }

    static func inNewWorkload(
        _ name: String, _ expected: String?, accepted: [String] = [], binary: String? = nil, tools: [String],
        _ play: @escaping @Sendable (EvalPods, BaselineWorkload) throws -> Void
    ) -> EvalScenario {
        var scenario = EvalScenario(name: name, expected: expected, tools: ["runc"] + tools, measured: nil) { _ in
            throw BaselineWorkload.Missing()
        }
        scenario.accepted = accepted
        scenario.inNewWorkload = play
        scenario.expectedBinary = binary
        scenario.group = .baseline
        return scenario
    }
}

extension BaselineWorkload {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "a baseline scenario plays in a new workload" }
    }
}
