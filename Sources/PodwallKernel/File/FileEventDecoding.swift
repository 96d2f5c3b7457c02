import PodwallABI
import PodwallCore

/// Converts the file programs' records into the core's file model.
extension FileEvent {
    init(_ event: pw_file_event) {
        let operations: [UInt16: FileOperation] = [
            UInt16(PW_FILE_OPEN.rawValue): .write, UInt16(PW_FILE_READ.rawValue): .read,
            UInt16(PW_FILE_UNLINK.rawValue): .unlink, UInt16(PW_FILE_RENAME.rawValue): .rename,
            UInt16(PW_FILE_LINK.rawValue): .link, UInt16(PW_FILE_SYMLINK.rawValue): .symlink,
            UInt16(PW_FILE_CHMOD.rawValue): .chmod, UInt16(PW_FILE_CHOWN.rawValue): .chown,
            UInt16(PW_FILE_TRUNCATE.rawValue): .truncate, UInt16(PW_FILE_SCRIPT.rawValue): .script
        ]
        func has(_ flag: pw_file_flag) -> Bool { event.flags & flag.rawValue != 0 }
        let target = ProcessEvent.text(event.target)
        self.init(
            process: ProcessIdentity(event.process), timestampNs: event.header.timestamp_ns, uid: event.uid,
            comm: ProcessEvent.text(event.comm), operation: operations[event.op] ?? .write, path: ProcessEvent.text(event.path),
            target: target.isEmpty ? nil : target, ruleID: event.rule_flags == 0 ? nil : event.rule_id, mode: event.mode,
            killed: has(PW_FILE_KILLED), pathCut: has(PW_FILE_PATH_CUT), unresolved: has(PW_FILE_UNRESOLVED))
        outsideRoot = has(PW_FILE_OUTSIDE_ROOT)
        inode = event.inode == 0 ? nil : event.inode
    }
}

extension BreakoutAttempt {
    /// nil for an operation this agent does not know (a newer kernel object).
    init?(_ event: pw_breakout_event) {
        let techniques: [UInt32: BreakoutTechnique] = [
            PW_BREAKOUT_SETNS.rawValue: .setns, PW_BREAKOUT_UNSHARE.rawValue: .unshare, PW_BREAKOUT_MOUNT.rawValue: .mount,
            PW_BREAKOUT_MOUNT_API.rawValue: .mount, PW_BREAKOUT_MODULE.rawValue: .kernelModule,
            PW_BREAKOUT_PTRACE.rawValue: .ptrace, PW_BREAKOUT_RUNTIME_SOCKET.rawValue: .runtimeSocket
        ]
        guard let technique = techniques[event.op] else { return nil }
        let path = ProcessEvent.text(event.path)
        let detail = ProcessEvent.text(event.detail)
        self.init(
            process: ProcessIdentity(event.process), timestampNs: event.header.timestamp_ns, uid: event.uid,
            comm: ProcessEvent.text(event.comm), technique: technique, argument: event.arg,
            targetPid: technique == .ptrace ? event.target_pid : nil, path: path.isEmpty ? nil : path,
            detail: detail.isEmpty ? nil : detail, killed: event.flags & PW_FILE_KILLED.rawValue != 0)
    }
}

extension DroppedProgram {
    /// nil unless the exec's flags say fileless or pod-written.
    init?(flags: UInt32, written: pw_written_file) {
        func has(_ flag: pw_exec_flag) -> Bool { flags & flag.rawValue != 0 }
        if has(PW_EXEC_FILELESS) {
            self.init(fileless: true)
        } else if has(PW_EXEC_DROPPED) {
            self.init(
                fileless: false, writerPid: written.tgid, writerComm: ProcessEvent.text(written.comm),
                writerCgroupID: written.cgroup_id, writtenNs: written.written_ns, inNoExecDirectory: has(PW_EXEC_NO_EXEC_DIR))
        } else {
            return nil
        }
    }
}
