// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "podwall",
    products: [
        .executable(name: "podwall", targets: ["podwall"]),
        .executable(name: "podwall-lab", targets: ["podwall-lab"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0")
    ],
    targets: [
        // The kernel/userspace ABI: the very header the BPF programs include.
        .target(
            name: "PodwallABI",
            path: "bpf",
            exclude: ["lib", "bench", "tc.bpf.c", "sock.bpf.c", "process.bpf.c", "file.bpf.c"],
            publicHeadersPath: "."
        ),
        // Compiles bpf/*.bpf.c with the toolchain's clang and embeds the objects.
        .plugin(name: "BPFCompilerPlugin", capability: .buildTool()),
        .target(name: "PodwallBPFObjects", plugins: ["BPFCompilerPlugin"]),
        // The benchmarks' and tests' own objects (bpf/bench/), not in the agent's binary.
        .target(
            name: "PodwallBenchBPFObjects", dependencies: ["PodwallBPFObjects"], path: "Benchmarks/BenchBPFObjects",
            plugins: ["BPFCompilerPlugin"]),
        // What Swift cannot call directly: libbpf opts structs and varargs logging.
        .target(
            name: "CPodwallShim",
            linkerSettings: [
                .linkedLibrary("bpf"), .linkedLibrary("elf"), .linkedLibrary("z"), .linkedLibrary("mnl")
            ]
        ),
        // Pure Swift: no syscalls, injected clock. Flows, feeds, policy.
        .target(name: "PodwallCore"),
        // Pure Swift detectors (scan, exfiltration, protocol mismatch), alerts
        // and response policy, fed PodwallCore's flow model.
        .target(name: "PodwallDetection", dependencies: ["PodwallCore"]),
        .executableTarget(name: "podwall-core-bench", dependencies: ["PodwallCore", "PodwallDetection"], path: "Benchmarks/CoreBench"),
        .target(name: "PodwallBenchSupport", dependencies: ["PodwallLab"], path: "Benchmarks/BenchSupport"),
        .executableTarget(
            name: "podwall-datapath-bench",
            dependencies: ["PodwallKernel", "PodwallLab", "PodwallCore", "PodwallBenchSupport", "PodwallBenchBPFObjects"],
            path: "Benchmarks/DatapathBench"),
        .executableTarget(
            name: "podwall-testrun-bench", dependencies: ["PodwallKernel", "PodwallBenchBPFObjects", "PodwallBenchSupport"],
            path: "Benchmarks/TestRunBench"),
        .executableTarget(
            name: "podwall-stage-bench",
            dependencies: ["PodwallABI", "PodwallKernel", "PodwallLab", "PodwallBPFObjects", "PodwallBenchSupport"],
            path: "Benchmarks/StageBench"),
        .executableTarget(
            name: "podwall-capture-bench",
            dependencies: ["PodwallKernel", "PodwallLab", "PodwallCore", "PodwallCapture", "PodwallBenchSupport"],
            path: "Benchmarks/CaptureBench"),
        .executableTarget(
            name: "podwall-exec-bench",
            dependencies: [
                "PodwallABI", "PodwallKernel", "PodwallLab", "PodwallCore", "PodwallDetection", "PodwallBenchSupport",
                "PodwallBenchBPFObjects"
            ],
            path: "Benchmarks/ExecBench"),
        .executableTarget(
            name: "podwall-ingest-bench",
            dependencies: ["PodwallKernel", "PodwallLab", "PodwallBenchBPFObjects", "PodwallBenchSupport"],
            path: "Benchmarks/IngestBench"),
        .executableTarget(
            name: "podwall-flood-bench", dependencies: ["PodwallLab", "PodwallBenchSupport"], path: "Benchmarks/FloodBench"),
        .executableTarget(
            name: "podwall-sample-bench",
            dependencies: ["PodwallKernel", "PodwallDetection", "PodwallCore", "PodwallBenchSupport"],
            path: "Benchmarks/SampleBench"),
        .executableTarget(
            name: "podwall-blocklist-bench", dependencies: ["PodwallAgent", "PodwallKernel", "PodwallLab", "PodwallCore"],
            path: "Benchmarks/BlocklistBench"),
        // Typed access to maps, programs, TC hooks, ring buffers and rtnetlink.
        .target(
            name: "PodwallKernel",
            dependencies: [
                "PodwallABI", "PodwallBPFObjects", "CPodwallShim", "PodwallCore",
                .product(name: "Logging", package: "swift-log")
            ]
        ),
        // The agent: attaches to pod interfaces, pumps events, sweeps idle flows.
        .target(
            name: "PodwallAgent",
            dependencies: [
                "PodwallKernel", "PodwallCore", "PodwallABI", "PodwallDetection", "PodwallCapture",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ]
        ),
        // libpcap behind opaque handles (its bpf_insn must not meet libbpf's).
        .target(name: "CPcapShim", linkerSettings: [.linkedLibrary("pcap")]),
        // Packet capture to pcap files: recorder, capture directory, disk budget.
        .target(
            name: "PodwallCapture",
            dependencies: ["CPcapShim", "PodwallKernel", "PodwallCore", .product(name: "Logging", package: "swift-log")]),
        // `podwall replay`: captures through the same flow model and detectors.
        .target(name: "PodwallReplay", dependencies: ["PodwallCapture", "PodwallCore", "PodwallDetection"]),
        // `podwall eval`: scenarios with real tools in a lab, recall, precision and latencies.
        .target(name: "PodwallEval", dependencies: ["PodwallLab", "PodwallKernel", "PodwallCore", "PodwallCapture"]),
        // Network-namespace labs for the demo, the tests and the benchmarks.
        .target(name: "PodwallLab", dependencies: ["CPodwallShim", "PodwallKernel"]),
        // What both executables share: options, one-sentence errors, finding each other.
        .target(
            name: "PodwallCommandLine",
            dependencies: [
                "PodwallKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log")
            ]
        ),
        // The agent and the operator's CLI: no lab, no evaluation, no benchmark objects.
        .executableTarget(
            name: "podwall",
            dependencies: [
                "PodwallAgent", "PodwallCommandLine", "PodwallCore", "PodwallKernel", "PodwallDetection", "PodwallReplay",
                "PodwallCapture",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        // The lab: `podwall demo` and `podwall eval` run it.
        .executableTarget(
            name: "podwall-lab",
            dependencies: [
                "PodwallCommandLine", "PodwallLab", "PodwallEval", "PodwallCapture", "PodwallCore", "PodwallKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        // Privilege gating, the podwall binary's path, a packet builder.
        .target(name: "PodwallTestSupport", dependencies: ["PodwallCore"], path: "Tests/PodwallTestSupport"),
        .testTarget(name: "PodwallCoreTests", dependencies: ["PodwallCore", "PodwallTestSupport"]),
        .testTarget(name: "PodwallDetectionTests", dependencies: ["PodwallDetection", "PodwallCore"]),
        .testTarget(
            name: "PodwallAgentTests",
            dependencies: [
                "PodwallAgent", "PodwallDetection", "PodwallCapture", "PodwallCore", "PodwallKernel", "PodwallTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "Yams", package: "Yams")
            ]),
        .testTarget(
            name: "PodwallReplayTests", dependencies: ["PodwallReplay", "PodwallCapture", "PodwallDetection", "PodwallTestSupport"]),
        .testTarget(
            name: "PodwallKernelTests",
            dependencies: ["PodwallKernel", "PodwallABI", "CPodwallShim", "PodwallBPFObjects", "PodwallLab", "PodwallTestSupport"]),
        .testTarget(
            name: "PodwallIntegrationTests",
            dependencies: [
                "PodwallLab", "PodwallKernel", "PodwallCore", "PodwallABI", "PodwallTestSupport", "PodwallCapture",
                "PodwallBenchBPFObjects"
            ]),
        .testTarget(name: "PodwallCaptureTests", dependencies: ["PodwallCapture", "PodwallCore"]),
        .testTarget(name: "PodwallEvalTests", dependencies: ["PodwallEval", "PodwallCore"])
    ]
)
