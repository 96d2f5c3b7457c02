import PodwallABI
import PodwallCore
import PodwallDetection
import PodwallKernel
import Testing

/// The file programs' records as the agent decodes them, and the rule bits
/// the kernel and the agent share.
struct FileEventABITests {
    @Test func fileAccessIsTheKernelsRuleBits() {
        #expect(FileAccess.write.rawValue == PW_FILE_RULE_WRITE.rawValue)
        #expect(FileAccess.read.rawValue == PW_FILE_RULE_READ.rawValue)
        #expect(FileAccess.breakout.rawValue == PW_FILE_RULE_BREAKOUT.rawValue)
        #expect(FileAccess.kill.rawValue == PW_FILE_RULE_KILL.rawValue)
        #expect(FileAccess.noExec.rawValue == PW_FILE_RULE_NO_EXEC.rawValue)
    }

    @Test func aRenameRecordDecodesWithBothNamesAndItsRule() throws {
        var event = pw_file_event()
        event.header.type = UInt16(PW_EVENT_FILE.rawValue)
        event.header.size = UInt16(MemoryLayout<pw_file_event>.size)
        event.header.timestamp_ns = 7
        event.process.tgid = 300
        event.op = UInt16(PW_FILE_RENAME.rawValue)
        event.flags = PW_FILE_KILLED.rawValue | PW_FILE_UNRESOLVED.rawValue
        event.rule_flags = PW_FILE_RULE_WRITE.rawValue
        event.rule_id = 4
        withUnsafeMutableBytes(of: &event.comm) { $0.copyBytes(from: Array("mv".utf8)) }
        withUnsafeMutableBytes(of: &event.path) { $0.copyBytes(from: Array("/tmp/x".utf8)) }
        withUnsafeMutableBytes(of: &event.target) { $0.copyBytes(from: Array("/etc/cron.d/x".utf8)) }
        let decoded = withUnsafeBytes(of: event) { ProcessEvent(record: $0) }
        guard case .file(let file) = decoded else {
            Issue.record("decoded as \(String(describing: decoded))")
            return
        }
        #expect(file.operation == .rename && file.path == "/tmp/x" && file.target == "/etc/cron.d/x")
        #expect(file.ruleID == 4 && file.killed && file.unresolved && !file.pathCut && file.comm == "mv" && file.process.pid == 300)
        #expect(file.inode == nil, "a rename names no opened file")
    }

    @Test func anOpenRecordCarriesTheOpenedFilesInode() throws {
        var event = pw_file_event()
        event.header.type = UInt16(PW_EVENT_FILE.rawValue)
        event.header.size = UInt16(MemoryLayout<pw_file_event>.size)
        event.op = UInt16(PW_FILE_OPEN.rawValue)
        event.inode = 131_077
        withUnsafeMutableBytes(of: &event.path) { $0.copyBytes(from: Array("/etc/shadow".utf8)) }
        guard case .file(let file) = withUnsafeBytes(of: event, { ProcessEvent(record: $0) }) else {
            Issue.record("not a file event")
            return
        }
        #expect(file.operation == .write && file.inode == 131_077)
    }

    @Test func aBreakoutRecordDecodesAndAnUnknownOneIsDropped() throws {
        var event = pw_breakout_event()
        event.header.type = UInt16(PW_EVENT_BREAKOUT.rawValue)
        event.header.size = UInt16(MemoryLayout<pw_breakout_event>.size)
        event.op = PW_BREAKOUT_MOUNT.rawValue
        event.flags = PW_FILE_KILLED.rawValue
        withUnsafeMutableBytes(of: &event.path) { $0.copyBytes(from: Array("/tmp/cgrp".utf8)) }
        withUnsafeMutableBytes(of: &event.detail) { $0.copyBytes(from: Array("cgroup".utf8)) }
        guard case .breakout(let attempt) = withUnsafeBytes(of: event, { ProcessEvent(record: $0) }) else {
            Issue.record("not a breakout")
            return
        }
        #expect(attempt.technique == .mount && attempt.path == "/tmp/cgrp" && attempt.detail == "cgroup" && attempt.killed)
        event.op = 99
        #expect(withUnsafeBytes(of: event) { ProcessEvent(record: $0) } == nil)
    }
}
