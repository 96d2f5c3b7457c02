import Glibc
import PodwallABI
import PodwallCore

/// The kernel's path rules: a prefix table (longest match), the names whose
/// read-only opens are looked at, and the names whose writes anywhere are a breakout.
public struct FileRuleTable: Sendable {
    let rules: BPFMap<pw_path_key, pw_file_rule>
    let names: BPFMap<pw_file_name_key, UInt32>

    /// Replaces the rules; a rule's id is its index in `list`. New entries
    /// are written before stale ones go, so no path is unwatched meanwhile.
    public func set(_ list: [FileRule], breakoutNames: [String] = []) throws {
        var wanted: [[UInt8]: (key: pw_path_key, value: pw_file_rule)] = [:]
        var wantedNames: [[UInt8]: (key: pw_file_name_key, flags: FileAccess)] = [:]
        func name(_ name: String, _ access: FileAccess) throws {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count < 32 else {
                throw KernelError("setting file name", "\(name) (1 to 31 bytes)", errno: EINVAL)
            }
            var key = pw_file_name_key()
            withUnsafeMutableBytes(of: &key.name) { $0.copyBytes(from: bytes) }
            wantedNames[bytes, default: (key, [])].flags.formUnion(access)
        }
        for breakout in breakoutNames { try name(breakout, [.write, .breakout]) }
        for (index, rule) in list.enumerated() {
            let bytes = Array(rule.path.utf8)
            guard bytes.first == UInt8(ascii: "/"), bytes.count < Int(PW_FILE_PATH_BYTES) else {
                throw KernelError("setting file rule", "\(rule.path) (an absolute path under \(PW_FILE_PATH_BYTES) bytes)", errno: EINVAL)
            }
            var key = pw_path_key()
            key.prefixlen = UInt32(bytes.count * 8)
            withUnsafeMutableBytes(of: &key.path) { $0.copyBytes(from: bytes) }
            wanted[bytes] = (key, pw_file_rule(flags: rule.access.rawValue, id: UInt32(index)))
            guard rule.access.contains(.read) else { continue }
            for readName in rule.names { try name(readName, .read) }
        }
        for entry in wanted.values { try rules.update(entry.key, entry.value) }
        for key in rules.keys() where wanted[Self.bytes(of: key)] == nil { _ = try rules.delete(key) }
        for entry in wantedNames.values { try names.update(entry.key, entry.flags.rawValue) }
        for key in names.keys() where wantedNames[withUnsafeBytes(of: key.name) { Array($0.prefix { $0 != 0 }) }] == nil {
            _ = try names.delete(key)
        }
    }

    static func bytes(of key: pw_path_key) -> [UInt8] {
        withUnsafeBytes(of: key.path) { Array($0.prefix(Int(key.prefixlen / 8))) }
    }
}
