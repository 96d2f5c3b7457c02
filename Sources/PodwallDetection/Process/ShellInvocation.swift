import PodwallCore

/// What a shell's or interpreter's command line says about where its
/// commands come from: a reverse shell reads them from its stdin, which the
/// attacker's connection feeds; `sh -c 'cmd'` and `python app.py` do not.
enum ShellInvocation {
    /// Options that take the program from the command line instead of stdin
    /// (sh/bash -c, python -c/-m, perl/ruby/node -e, node -p, php -r).
    static let commandOptions: Set<String> = ["-c", "-e", "-m", "-r", "-p", "-E", "--eval", "--command"]

    static func readsCommandsFromStdin(_ arguments: [String]) -> Bool {
        for argument in arguments.dropFirst() {
            if argument == "-" || argument == "--" { return true }
            guard argument.hasPrefix("-") else { return false }  // a script file
            if commandOptions.contains(argument) { return false }
            // A cluster of short options: `bash -lc 'cmd'`, `sh -ec`.
            if !argument.hasPrefix("--"), argument.contains("c") { return false }
        }
        return true
    }
}
