import CPodwallShim

/// BPF_PROG_TEST_RUN: runs a program on a crafted packet in the kernel.
public struct ProgramTestRun: Sendable {
    public let returnValue: Int32
    /// Average nanoseconds per run, as the kernel measured it.
    public let durationNanoseconds: UInt32
    /// The packet as the program left it.
    public let packetOut: [UInt8]

    public static func run(_ program: BPFProgram, packet: [UInt8], repeat count: UInt32 = 1) throws -> ProgramTestRun {
        try run(programFD: program.fd, named: program.name, packet: packet, repeat: count)
    }

    /// For programs loaded outside a `BPFObject` (tests that load an object
    /// with libbpf themselves).
    public static func run(programFD: Int32, named name: String, packet: [UInt8], repeat count: UInt32 = 1) throws -> ProgramTestRun {
        var output = [UInt8](repeating: 0, count: max(packet.count + 256, 1600))
        var outputSize = UInt32(output.count)
        var returnValue: UInt32 = 0
        var duration: UInt32 = 0
        try KernelError.check(
            pw_shim_test_run(programFD, packet, UInt32(packet.count), &output, &outputSize, count, &returnValue, &duration),
            "test-running", name)
        return ProgramTestRun(
            returnValue: Int32(bitPattern: returnValue), durationNanoseconds: duration,
            packetOut: Array(output[..<Int(outputSize)]))
    }
}
