import Foundation
import PodwallLab

/// An openat+close loop of one path, in C (an interpreter's own work would
/// hide the syscall's): compiled on the host into the container's /shared,
/// run in the pod or on the host. It times itself from its first open to
/// its last close, wall clock and its own CPU time (the syscalls' kernel
/// time and the programs' run in them included), so neither the start of
/// `runc exec` nor other work on the machine is counted in the CPU time.
struct OpenLoop {
    /// The binary's host path (in the container: /shared/open-loop).
    let binary: String

    enum Access: String {
        /// O_RDONLY.
        case read
        /// O_WRONLY|O_CREAT|O_TRUNC, as a shell's `>` opens.
        case write
    }

    /// With `rate` > 0 the opens are paced to that many a second (the loop
    /// sleeps when ahead of the schedule, catches up when behind).
    static let source = """
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>
        #include <unistd.h>

        static long long now(clockid_t clock) {
            struct timespec t;
            clock_gettime(clock, &t);
            return t.tv_sec * 1000000000LL + t.tv_nsec;
        }

        int main(int argc, char **argv) {
            if (argc != 5) return 2;
            int flags = strcmp(argv[2], "write") == 0 ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;
            long count = atol(argv[3]), rate = atol(argv[4]), opened = 0;
            long long start = now(CLOCK_MONOTONIC), cpu = now(CLOCK_PROCESS_CPUTIME_ID);
            for (long i = 0; i < count; i++) {
                if (rate > 0) {
                    long long due = start + i * 1000000000LL / rate;
                    struct timespec t = { due / 1000000000LL, due % 1000000000LL };
                    if (now(CLOCK_MONOTONIC) < due) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, 0);
                }
                int fd = openat(AT_FDCWD, argv[1], flags, 0644);
                if (fd >= 0) {
                    opened++;
                    close(fd);
                }
            }
            printf("%ld %lld %lld\\n", opened, now(CLOCK_MONOTONIC) - start, now(CLOCK_PROCESS_CPUTIME_ID) - cpu);
            return 0;
        }
        """

    /// Compiles the loop into `container`'s shared directory.
    static func build(for container: Container) throws -> OpenLoop {
        OpenLoop(binary: try compileC(source, to: container.sharedDirectory + "/open-loop"))
    }

    struct Result {
        let opened: Int
        let opensPerSecond: Double
        let cpuNanosecondsPerOpen: Double
    }

    /// `count` opens of `path` (as the process sees it: /shared/… in the
    /// pod) in `place`, paced to `rate` a second when above 0.
    func run(
        _ place: ExecLoop.Place, _ access: Access, _ path: String, count: Int, rate: Int = 0, bench: ExecBench
    ) throws -> Result {
        let arguments = [path, access.rawValue, "\(count)", "\(rate)"]
        let command: [String]
        switch place {
        case .pod: command = bench.lab.execCommand(in: bench.container, ["/shared/open-loop"] + arguments)
        case .host:
            command = ["sh", "-c", "echo $$ > \(bench.hostCgroup)/cgroup.procs && exec \"$@\"", "sh", binary] + arguments
        }
        let output = try Shell.run(command).output
        let numbers = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard numbers.count == 3, numbers[0] > 0, numbers[1] > 0 else {
            throw ExecBenchFailure(description: "the \(place) open loop of \(path) printed \(output.debugDescription)")
        }
        return Result(
            opened: Int(numbers[0]), opensPerSecond: numbers[0] / (numbers[1] / 1e9), cpuNanosecondsPerOpen: numbers[2] / Double(count))
    }
}
