import PodwallABI
import PodwallCore

/// Converts the process ring's records into the core's process model.
extension ProcessEvent {
    /// Decodes a record; nil for a record of another type or size.
    public init?(record: UnsafeRawBufferPointer) {
        guard record.count >= MemoryLayout<pw_event_header>.size else { return nil }
        let header = record.loadUnaligned(as: pw_event_header.self)
        func fits<T>(_: T.Type) -> Bool {
            Int(header.size) == MemoryLayout<T>.size && record.count >= MemoryLayout<T>.size
        }
        switch UInt32(header.type) {
        case PW_EVENT_EXEC.rawValue where fits(pw_exec_event.self):
            self = .exec(ExecRecord(record.loadUnaligned(as: pw_exec_event.self)))
        case PW_EVENT_FORK.rawValue where fits(pw_fork_event.self):
            let event = record.loadUnaligned(as: pw_fork_event.self)
            self = .fork(ProcessIdentity(event.process), timestampNs: header.timestamp_ns, comm: Self.text(event.comm))
        case PW_EVENT_EXIT.rawValue where fits(pw_exit_event.self):
            let event = record.loadUnaligned(as: pw_exit_event.self)
            self = .exit(
                ProcessIdentity(event.process), timestampNs: header.timestamp_ns, exitCode: event.exit_code,
                comm: Self.text(event.comm))
        case PW_EVENT_STDIO_SOCKET.rawValue where fits(pw_stdio_socket_event.self):
            let event = record.loadUnaligned(as: pw_stdio_socket_event.self)
            guard case .inetSocket(let socket) = StdioDescriptor(event.socket) else { return nil }
            self = .stdioRedirect(
                StdioRedirect(
                    process: ProcessIdentity(event.process), timestampNs: header.timestamp_ns, uid: event.uid, comm: Self.text(event.comm),
                    fd: event.fd,
                    socket: socket, killed: event.flags & PW_EXEC_KILLED.rawValue != 0))
        case PW_EVENT_RELAY_CONNECT.rawValue where fits(pw_relay_connect_event.self):
            let event = record.loadUnaligned(as: pw_relay_connect_event.self)
            var connection = ProcessConnection(relay: event.connection, cgroupID: event.process.cgroup_id)
            connection.uid = event.uid
            self = .relayConnect(
                RelayConnect(
                    process: ProcessIdentity(event.process), connection: connection, shellPid: event.shell_tgid,
                    killed: event.flags & PW_EXEC_KILLED.rawValue != 0))
        case PW_EVENT_FILE.rawValue where fits(pw_file_event.self):
            self = .file(FileEvent(record.loadUnaligned(as: pw_file_event.self)))
        case PW_EVENT_BREAKOUT.rawValue where fits(pw_breakout_event.self):
            guard let attempt = BreakoutAttempt(record.loadUnaligned(as: pw_breakout_event.self)) else { return nil }
            self = .breakout(attempt)
        default:
            return nil
        }
    }

    /// A NUL-terminated C array field as text.
    static func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

extension ProcessIdentity {
    init(_ id: pw_process_id) {
        self.init(pid: id.tgid, namespacePid: id.ns_pid, parentPid: id.ppid, cgroupID: id.cgroup_id, startNs: id.start_ns)
    }
}

extension ExecRecord {
    init(_ event: pw_exec_event) {
        let flags = event.flags
        func has(_ flag: pw_exec_flag) -> Bool { flags & flag.rawValue != 0 }
        let arguments = withUnsafeBytes(of: event.args) { raw in
            ProcStatus.arguments(cmdline: Array(raw.prefix(min(Int(event.args_len), raw.count))))
        }
        let filename = ProcessEvent.text(event.filename)
        let interpreter = ProcessEvent.text(event.interpreter)
        self.init(
            process: ProcessIdentity(event.process), timestampNs: event.header.timestamp_ns, uid: event.uid, euid: event.euid,
            comm: ProcessEvent.text(event.comm), filename: filename, interpreter: interpreter.isEmpty ? filename : interpreter,
            arguments: arguments,
            argumentsTruncated: has(PW_EXEC_ARGS_TRUNCATED),
            stdio: [StdioDescriptor(event.stdio.0), StdioDescriptor(event.stdio.1), StdioDescriptor(event.stdio.2)],
            killedAtExec: has(PW_EXEC_KILLED), execClass: ExecClass(rawValue: event.exec_class),
            relayedBy: has(PW_EXEC_RELAYED) ? ProcessConnection(relay: event.relay, cgroupID: event.process.cgroup_id) : nil,
            dropped: DroppedProgram(flags: flags, written: event.written))
    }
}

extension ProcessConnection {
    /// The relay's connection the kernel named.
    init(relay: pw_relay_connection, cgroupID: UInt64) {
        self.init(
            pid: relay.tgid, cgroupID: cgroupID, comm: ProcessEvent.text(relay.comm), proto: .tcp,
            remote: withUnsafeBytes(of: relay.remote_addr) { IPAddress(bytes: $0)! }, remotePort: relay.remote_port,
            timestampNs: relay.connect_ns)
    }
}

extension StdioDescriptor {
    init(_ fd: pw_stdio_fd) {
        switch UInt32(fd.kind) {
        case PW_FD_NONE.rawValue: self = .none
        case PW_FD_FILE.rawValue: self = .file
        case PW_FD_PIPE.rawValue: self = .pipe(inode: fd.inode)
        case PW_FD_TTY.rawValue: self = .terminal
        case PW_FD_CHAR.rawValue: self = .characterDevice
        case PW_FD_SOCKET.rawValue:
            switch fd.family {
            case 2, 10:  // AF_INET, AF_INET6
                self = .inetSocket(
                    InetSocket(
                        proto: IPProtocol(rawValue: fd.protocol),
                        local: withUnsafeBytes(of: fd.local_addr) { IPAddress(bytes: $0)! }, localPort: fd.local_port,
                        remote: withUnsafeBytes(of: fd.remote_addr) { IPAddress(bytes: $0)! }, remotePort: fd.remote_port,
                        inode: fd.inode))
            case 1: self = .unixSocket(inode: fd.inode, peerInode: fd.peer_inode)  // AF_UNIX
            default: self = .otherSocket(family: fd.family)
            }
        default: self = .other
        }
    }
}
