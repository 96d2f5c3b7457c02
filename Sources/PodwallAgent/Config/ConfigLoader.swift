import Foundation
import PodwallCapture
import PodwallCore
import PodwallDetection
import Yams

/// Builds the agent's configuration: the documented defaults, then the
/// file, then the command line's overrides, then validation. Every error
/// names the key (and the file) and nothing is half-applied: the caller
/// gets a whole configuration or an error.
public enum ConfigLoader {
    public static func load(file: String?, overrides: [ConfigOverride] = []) throws -> AgentConfiguration {
        var merged = try defaults()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigError("\(file): cannot read the config file: \(error.localizedDescription)")
            }
            let node: Node?
            do {
                node = try Yams.compose(yaml: text)
            } catch {
                throw ConfigError("\(file): not YAML: \(error)")
            }
            if let node {
                guard case .mapping = node else {
                    throw ConfigError("\(file): the config is a mapping of keys, see `podwall config --print-defaults`")
                }
                merged = try merge(node, into: merged, path: "", origin: file)
            }
        }
        for override in overrides {
            merged = try set(
                override.value, at: override.key.split(separator: ".").map(String.init), in: merged,
                origin: "--set \(override.key)")
        }
        let origin = file ?? "configuration"
        let decoded: ConfigFile
        do {
            decoded = try YAMLDecoder().decode(ConfigFile.self, from: try Yams.serialize(node: merged))
        } catch let error as DecodingError {
            throw ConfigError("\(origin): \(describe(error))")
        }
        return try resolve(decoded, origin: origin)
    }

    static func defaults() throws -> Node {
        guard let node = try Yams.compose(yaml: ConfigDefaults.yaml) else { throw ConfigError("the built-in defaults are empty") }
        return node
    }

    /// Overlays `file` on `base`; a key `base` does not have is an error.
    static func merge(_ file: Node, into base: Node, path: String, origin: String) throws -> Node {
        guard case .mapping(let overlay) = file, case .mapping(var result) = base else { return file }
        for (keyNode, value) in overlay {
            let key = keyNode.string ?? "\(keyNode)"
            let keyPath = path.isEmpty ? key : path + "." + key
            guard let existing = result[key] else {
                throw ConfigError("\(origin): \(keyPath): unknown key (`podwall config --print-defaults` lists them all)")
            }
            if case .mapping = existing {
                guard case .mapping = value else { throw ConfigError("\(origin): \(keyPath): must be a mapping of keys") }
            }
            result[key] = try merge(value, into: existing, path: keyPath, origin: origin)
        }
        return .mapping(result)
    }

    static func set(_ value: Node, at keys: [String], in base: Node, origin: String) throws -> Node {
        guard let first = keys.first else { return value }
        guard case .mapping(var mapping) = base, let existing = mapping[first] else {
            throw ConfigError("\(origin): unknown key (`podwall config --print-defaults` lists them all)")
        }
        mapping[first] = try set(value, at: Array(keys.dropFirst()), in: existing, origin: origin)
        return .mapping(mapping)
    }

    static func describe(_ error: DecodingError) -> String {
        func key(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(key(context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(key(context.codingPath)): expected \(typeName(type)), found null"
        case .keyNotFound(let missing, let context):
            return "\(key(context.codingPath + [missing])): missing"
        case .dataCorrupted(let context):
            return "\(key(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "true or false"
        case is String.Type: "a string"
        case is Double.Type: "a number"
        case is Int.Type, is Int64.Type, is UInt64.Type, is UInt32.Type, is UInt16.Type: "a whole number in range"
        default: "a value of type \(type)"
        }
    }
}
