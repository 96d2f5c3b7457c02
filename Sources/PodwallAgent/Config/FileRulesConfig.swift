import PodwallCore
import PodwallDetection
import PodwallKernel

extension ConfigLoader {
    /// The `files:` lists on top of podwall's own rules (unless `default_rules: false`).
    static func fileRules(_ files: ConfigFile.Files, origin: String) throws -> FileRules {
        var rules = files.default_rules ? FileRules.defaults : []
        for (key, paths, access) in [
            ("watch_writes", files.watch_writes, FileAccess.write), ("sensitive_reads", files.sensitive_reads, .read),
            ("deny_writes", files.deny_writes, [.write, .kill]), ("no_exec", files.no_exec, .noExec)
        ] {
            for (index, path) in paths.enumerated() {
                guard path.hasPrefix("/"), path.utf8.count < 256, FileRules.normalized(path) == path else {
                    throw ConfigError("\(origin): files.\(key)[\(index)]: '\(path)' is not an absolute, normalized path under 256 bytes")
                }
                let rule = FileRule(path, access)
                if access.contains(.read), rule.names.first.map({ $0.isEmpty || $0.utf8.count > 31 }) ?? true {
                    throw ConfigError("\(origin): files.\(key)[\(index)]: '\(path)' must name a file (its name 1-31 bytes)")
                }
                rules.append(rule)
            }
        }
        return FileRules(rules)
    }
}
