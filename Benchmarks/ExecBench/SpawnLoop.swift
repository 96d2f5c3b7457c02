import Foundation
import PodwallLab

/// The fastest execs a pod can make here: workers that `posix_spawn` a
/// static do-nothing program and wait for it, in C (no shell, no dynamic
/// loader: a `/bin/true` from `sh` costs ~550 µs here and tops out near
/// 2,500 execs/s, below the 5,000 a second #17 asks not to lose). Compiled
/// on the host into the container's /shared, run in the pod.
struct SpawnLoop {
    /// The spawner's host path (in the container: /shared/spawn-loop).
    let binary: String

    /// Exits at once: all it costs is the fork, the exec and the exit.
    static let program = "int main(void) { return 0; }"

    /// argv: program count rate workers. Each worker spawns its share of
    /// `count`, paced to its share of `rate` a second (0: as fast as it
    /// goes), and reports how many ran to the parent through a pipe.
    static let source = """
        #include <spawn.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/wait.h>
        #include <time.h>
        #include <unistd.h>

        extern char **environ;

        static long long now(void) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            return t.tv_sec * 1000000000LL + t.tv_nsec;
        }

        int main(int argc, char **argv) {
            if (argc != 5) return 2;
            long count = atol(argv[2]), rate = atol(argv[3]);
            int workers = atoi(argv[4]), fds[2];
            if (workers < 1 || pipe(fds) != 0) return 2;
            char *child[] = { argv[1], 0 };
            long long start = now();
            for (int w = 0; w < workers; w++) {
                if (fork() != 0) continue;
                long ran = 0;
                for (long i = 0; i < count / workers; i++) {
                    if (rate > 0) {
                        long long due = start + (i * workers + w) * 1000000000LL / rate;
                        struct timespec t = { due / 1000000000LL, due % 1000000000LL };
                        if (now() < due) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, 0);
                    }
                    pid_t pid;
                    int status;
                    if (posix_spawn(&pid, argv[1], 0, 0, child, environ) == 0 && waitpid(pid, &status, 0) == pid && status == 0)
                        ran++;
                }
                if (write(fds[1], &ran, sizeof ran) != sizeof ran) _exit(1);
                _exit(0);
            }
            long total = 0, ran;
            for (int w = 0; w < workers; w++) {
                if (read(fds[0], &ran, sizeof ran) == sizeof ran) total += ran;
                wait(0);
            }
            printf("%ld %lld\\n", total, now() - start);
            return 0;
        }
        """

    /// Compiles the spawner and the static program into `container`'s shared directory.
    static func build(for container: Container) throws -> SpawnLoop {
        try compileC(program, to: container.sharedDirectory + "/exit0", flags: ["-static"])
        return SpawnLoop(binary: try compileC(source, to: container.sharedDirectory + "/spawn-loop"))
    }

    struct Result {
        let spawned: Int
        let execsPerSecond: Double
    }

    /// `count` spawns from the pod by `workers` workers, paced to `rate` a second when above 0.
    func run(count: Int, rate: Int, workers: Int, bench: ExecBench) throws -> Result {
        let command = bench.lab.execCommand(
            in: bench.container, ["/shared/spawn-loop", "/shared/exit0", "\(count)", "\(rate)", "\(workers)"])
        let output = try Shell.run(command).output
        let numbers = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard numbers.count == 2, numbers[0] > 0, numbers[1] > 0 else {
            throw ExecBenchFailure(description: "the spawn loop printed \(output.debugDescription)")
        }
        return Result(spawned: Int(numbers[0]), execsPerSecond: numbers[0] / (numbers[1] / 1e9))
    }
}

/// Compiles C `source` with the host's cc into `binary` (a container's
/// /shared, so the pod runs it); returns the binary's path.
@discardableResult
func compileC(_ source: String, to binary: String, flags: [String] = []) throws -> String {
    try Shell.run(["cc", "-O2"] + flags + ["-o", binary, "-x", "c", "-"], input: source)
    return binary
}
