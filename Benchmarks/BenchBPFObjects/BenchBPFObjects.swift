// The benchmarks' and tests' BPF objects (`bpf/bench/*.bpf.c`), embedded by
// the BPF compiler plugin as `BPFObjectImage` properties (`.baseline`): kept
// out of PodwallBPFObjects so that the agent's binary carries only its own.
@_exported import PodwallBPFObjects
