import Foundation
import PodwallABI
import PodwallBenchSupport
import PodwallKernel
import PodwallLab

extension ExecBench {
    /// What the relayed-shell decision costs (lib/relay.h), from BPF
    /// run-time statistics: the connect() entry program for every connect
    /// on the machine (in the pod: a TCP connect out, remembered with the
    /// pipes on its stdio; on the host: filtered out), and the exec program
    /// for a shell whose stdin is a pipe (its arguments judged, its parent
    /// and pipes looked up, its pipes marked) against a shell on /dev/null
    /// (judged too, not a relay candidate) and /bin/true.
    func relayRunTimes(rounds: Int, connects: Int = 2000) throws -> String {
        let statistics = try BPFProgram.enableRunTimeStatistics()
        defer { withExtendedLifetime(statistics) {} }
        let monitor = try loadMonitor()
        let drain = try EventDrain(monitor, concurrent: true)
        let connect = try monitor.object.program(named: PW_PROG_CONNECT_NAME)
        let exec = try monitor.object.program(named: PW_PROG_EXEC_NAME)
        // A closed port of the pod's own (non-loopback) address: each connect is refused at once.
        let connectLoop = """
            import socket
            for _ in range(\(connects)):
                s = socket.socket()
                try: s.connect(("\(lab.pods[0].ipv4)", 9))
                except OSError: pass
                s.close()
            """
        let loops: [(row: String, program: BPFProgram, command: [String])] = [
            ("connect() in the pod (remembered)", connect, lab.execCommand(in: container, ["python3", "-c", connectLoop])),
            ("connect() on the host (filtered out)", connect, ["python3", "-c", connectLoop]),
            (
                "exec of /bin/true in the pod", exec,
                lab.execCommand(in: container, ["sh", "-c", "i=0; while [ $i -lt \(connects) ]; do /bin/true; i=$((i+1)); done"])
            ),
            // Both shells are judged now (the agent is woken for each): their difference is the relay decision.
            (
                "exec of a shell reading /dev/null in the pod (`sh < /dev/null`)", exec,
                lab.execCommand(in: container, ["sh", "-c", "i=0; while [ $i -lt \(connects) ]; do sh < /dev/null; i=$((i+1)); done"])
            ),
            (
                "exec of a shell reading a pipe in the pod (`true | sh`)", exec,
                lab.execCommand(in: container, ["sh", "-c", "i=0; while [ $i -lt \(connects) ]; do true | sh; i=$((i+1)); done"])
            )
        ]
        var perRun: [String: [Double]] = [:]
        for round in 1...rounds {
            for loop in loops {
                let before = try loop.program.runStatistics()
                let result = try Shell.run(loop.command)
                let after = try loop.program.runStatistics()
                drain.takeAvailable()
                guard result.status == 0 else { throw ExecBenchFailure(description: "\(loop.row): \(result.error)") }
                let nanoseconds = Double(after.nanoseconds - before.nanoseconds) / Double(max(1, after.runs - before.runs))
                perRun[loop.row, default: []].append(nanoseconds)
                progress("relay cost round \(round), \(loop.row): \(Int(nanoseconds)) ns per run")
            }
        }
        _ = drain.finish()
        var lines = [
            "| BPF run-time statistics, \(rounds) loops of \(connects) each: median (middle half) | program | ns per run |",
            "|---|---|---|"
        ]
        for loop in loops { lines.append("| \(loop.row) | \(loop.program.name) | \(summary(perRun[loop.row]!, 0)) |") }
        return lines.joined(separator: "\n")
    }
}
