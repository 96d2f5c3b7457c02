import PodwallABI
import PodwallCore
import PodwallDetection
import PodwallKernel
import Testing

/// The process ring's records as the agent decodes them, and the constants
/// the kernel and the agent must agree on.
struct ProcessEventABITests {
    @Test func theAgentJudgesRelaysOverTheKernelsWindow() {
        #expect(ShellRelayDetector().windowNs == PW_RELAY_WINDOW_NS)
    }

    @Test func execClassesAreTheKernelsBits() {
        #expect(ExecClass.shell.rawValue == PW_EXEC_SHELL.rawValue)
        #expect(ExecClass.networkTool.rawValue == PW_EXEC_NETWORK_TOOL.rawValue)
        #expect(ExecClass.denied.rawValue == PW_EXEC_DENIED.rawValue)
        #expect(ExecClass.runtime.rawValue == PW_EXEC_RUNTIME.rawValue)
    }

    @Test func aRelayConnectRecordDecodesToTheRelayItsShellAndWhereItConnected() throws {
        var event = pw_relay_connect_event()
        event.header.type = UInt16(PW_EVENT_RELAY_CONNECT.rawValue)
        event.header.size = UInt16(MemoryLayout<pw_relay_connect_event>.size)
        event.header.timestamp_ns = 42
        event.process.tgid = 2003
        event.process.cgroup_id = 55
        event.connection.tgid = 2003
        event.connection.connect_ns = 42
        event.connection.remote_port = 4444
        withUnsafeMutableBytes(of: &event.connection.remote_addr) {
            $0.copyBytes(from: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9])
        }
        withUnsafeMutableBytes(of: &event.connection.comm) { $0.copyBytes(from: Array("nc".utf8)) }
        event.shell_tgid = 2002
        event.flags = PW_EXEC_KILLED.rawValue
        let decoded = withUnsafeBytes(of: event) { ProcessEvent(record: $0) }
        guard case .relayConnect(let relay) = decoded else {
            Issue.record("decoded as \(String(describing: decoded))")
            return
        }
        #expect(relay.shellPid == 2002 && relay.killed)
        #expect(relay.connection.comm == "nc" && relay.connection.pid == 2003 && relay.connection.cgroupID == 55)
        #expect(relay.connection.remote == IPAddress("203.0.113.9") && relay.connection.remotePort == 4444)
        #expect(relay.connection.proto == .tcp)
    }
}
