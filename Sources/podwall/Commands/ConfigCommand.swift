import ArgumentParser
import PodwallCommandLine
import PodwallAgent

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the documented defaults of podwall.yaml, or check a config file.",
        discussion: """
            Examples:
              podwall config --print-defaults > /etc/podwall/podwall.yaml
              podwall config --check /etc/podwall/podwall.yaml
              podwall config --check podwall.yaml --set capture.snaplen=70000   # fails, naming the key
            """
    )

    @Flag(name: .long, help: "Print every key with its default and what it does.")
    var printDefaults = false

    @Option(name: .long, help: ArgumentHelp("Validate this file as `podwall run --config` would.", valueName: "file"))
    var check: String?

    @Option(name: .customLong("set"), parsing: .singleValue, help: ArgumentHelp("Overrides to validate with it.", valueName: "key=value"))
    var settings: [String] = []

    func validate() throws {
        guard printDefaults != (check != nil) else { throw ValidationError("give --print-defaults or --check FILE") }
    }

    func run() async throws {
        if printDefaults {
            print(ConfigDefaults.yaml, terminator: "")
            return
        }
        do {
            let configuration = try ConfigLoader.load(file: check, overrides: try settings.map(ConfigOverride.parse))
            print(
                "\(check ?? "-"): valid; interfaces \(configuration.interfaces.map(\.text).joined(separator: " ")), "
                    + "\(configuration.feeds.count) feeds, API \(configuration.apiAddress?.description ?? "off"), "
                    + "captures \(configuration.captureDirectory ?? "off")")
        } catch let error as ConfigError {
            throw ValidationError.failure(error.description)
        }
    }
}
