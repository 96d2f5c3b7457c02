import Foundation
import PodwallLab

/// Fork+exec loops of /bin/true in sh, timed inside the shell (`date` before
/// and after) so that the start of `runc exec` or of the shell is not counted.
struct ExecLoop {
    /// /bin/true execs per loop.
    let count: Int
    /// Loops run side by side (each its own subshell).
    let parallel: Int

    var execs: Int { count * parallel }

    var script: String {
        let loop = "i=0; while [ $i -lt \(count) ]; do /bin/true; i=$((i+1)); done"
        let body = parallel == 1 ? loop : String(repeating: "( \(loop) ) & ", count: parallel) + "wait"
        return "s=$(date +%s%N); \(body); e=$(date +%s%N); echo $s $e"
    }

    /// Where a loop runs: in the lab pod's container, or on the host outside the pods' cgroup.
    enum Place: String, CaseIterable {
        case pod, host
    }

    /// Runs the loop and returns its execs per second.
    func run(in place: Place, lab: Lab, container: Container) throws -> Double {
        let command = ["sh", "-c", script]
        let result = place == .pod ? try lab.exec(in: container, command) : try Shell.run(command)
        let times = result.output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard times.count == 2, times[1] > times[0] else {
            throw ExecBenchFailure(description: "the \(place) loop printed \(result.output.debugDescription), not two times")
        }
        return Double(execs) / ((times[1] - times[0]) / 1e9)
    }
}

struct ExecBenchFailure: Error, CustomStringConvertible {
    let description: String
}
