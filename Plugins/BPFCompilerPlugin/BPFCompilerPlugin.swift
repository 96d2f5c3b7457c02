import Foundation
import PackagePlugin

/// Builds every `bpf/*.bpf.c` with the toolchain's clang during `swift build`
/// and embeds each object into the target as a base64 string, so the
/// `podwall` binary carries its programs wherever it is run from. The
/// benchmarks' and tests' own objects (`bpf/bench/`) go into
/// `PodwallBenchBPFObjects`, not into the agent's binary.
@main
struct BPFCompilerPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let clang = try context.tool(named: "clang").url
        let bench = target.name == "PodwallBenchBPFObjects"
        let sources = try files(in: bench ? bpfDirectory.appending(path: "bench") : bpfDirectory, endingWith: ".bpf.c")
        // Every header is an input, so editing the ABI or lib/ rebuilds.
        let headers =
            try files(in: bpfDirectory, endingWith: ".h")
            + files(in: bpfDirectory.appending(path: "lib"), endingWith: ".h")

        return sources.flatMap { source -> [Command] in
            let stem = source.lastPathComponent.replacingOccurrences(of: ".bpf.c", with: "")
            var variants = [(stem: stem, property: stem, defines: [String]())]
            if Self.atomicFetchCompat.contains(stem) {
                variants.append((stem: "\(stem)_compat", property: "\(stem)Compat", defines: ["-DPW_PRE_5_12"]))
            }
            return variants.flatMap { variant in
                compile(
                    source, into: variant.stem, as: variant.property, defines: variant.defines, importing: bench,
                    headers: headers, clang: clang, bpfDirectory: bpfDirectory, context: context)
            }
        }
    }

    /// Objects that also get a build for Linux 5.10 and 5.11, which refuse
    /// atomic fetch instructions and pointer arguments of global functions
    /// (bpf/lib/compat.h). The loader picks that build after a probe.
    static let atomicFetchCompat: Set<String> = ["tc"]

    private func compile(
        _ source: URL, into stem: String, as property: String, defines: [String], importing: Bool, headers: [URL],
        clang: URL, bpfDirectory: URL, context: PluginContext
    ) -> [Command] {
        let object = context.pluginWorkDirectoryURL.appending(path: "\(stem).bpf.o")
        let swift = context.pluginWorkDirectoryURL.appending(path: "BPFObject+\(stem).swift")
        return [
            .buildCommand(
                displayName: "Compiling BPF \(stem).bpf.o",
                executable: clang,
                arguments: [
                    // v3 (ALU32, JMP32): Linux >= 5.1; nothing newer, so one
                    // object loads on every kernel podwall supports.
                    "-target", "bpf", "-mcpu=v3", "-O2", "-g", "-Wall", "-Werror",
                    // Keep cold blocks in their function: outlined ones become
                    // static subprograms, which libbpf 1.1 refuses to open.
                    "-mllvm", "-hotcoldsplit-threshold=1000000",
                    "-I", bpfDirectory.path, "-I", "/usr/include/\(multiarch)"
                ] + defines + ["-c", source.path, "-o", object.path],
                inputFiles: [source] + headers,
                outputFiles: [object]
            ),
            .buildCommand(
                displayName: "Embedding BPF \(stem).bpf.o",
                executable: URL(filePath: "/bin/sh"),
                // Outside PodwallBPFObjects the generated extension imports it.
                arguments: [
                    "-c", embedScript, "embed", property, stem, object.path, swift.path,
                    importing ? "import PodwallBPFObjects\n" : ""
                ],
                inputFiles: [object],
                outputFiles: [swift]
            )
        ]
    }

    /// Writes `extension BPFObjectImage { static let <property> = ... }` around the object's base64.
    private var embedScript: String {
        #"""
        set -e
        { printf "$5"; printf 'extension BPFObjectImage {\n    public static let %s = BPFObjectImage(name: "%s.bpf.o", base64: "' "$1" "$2"
          base64 -w0 "$3"
          printf '")\n}\n'; } > "$4.tmp"
        mv "$4.tmp" "$4"
        """#
    }

    private var multiarch: String {
        #if arch(arm64)
            "aarch64-linux-gnu"
        #else
            "x86_64-linux-gnu"
        #endif
    }

    private func files(in directory: URL, endingWith suffix: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(suffix) }
            .sorted()
            .map { directory.appending(path: $0) }
    }
}
