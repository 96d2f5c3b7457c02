/// A shell-style interface name pattern (`veth*`, `lxc?abc`, `cali[0-9]*`)
/// as used by `--interfaces`.
public struct InterfacePattern: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    /// Host-side pod veths of common CNIs: bridge/ptp/flannel/Weave/Antrea
    /// (`veth*`), Cilium (`lxc*`), Calico (`cali*`), GKE, AWS VPC CNI (`eni*`),
    /// Azure (`azv*`). Bridges such as `cni0` are left out on purpose: they
    /// carry the same packets again.
    public static let defaults: [InterfacePattern] = ["veth*", "lxc*", "cali*", "gke*", "eni*", "azv*"]
        .map { InterfacePattern($0) }

    public init(_ text: String) {
        self.text = text
    }

    public var description: String { text }

    public func matches(_ name: String) -> Bool {
        Self.match(Array(text.utf8)[...], Array(name.utf8)[...])
    }

    public static func matchesAny(_ patterns: [InterfacePattern], _ name: String) -> Bool {
        patterns.contains { $0.matches(name) }
    }

    private static func match(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return name.isEmpty }
        switch first {
        case UInt8(ascii: "*"):
            let rest = pattern.dropFirst()
            return name.indices.contains { match(rest, name[$0...]) } || match(rest, name[name.endIndex...])
        case UInt8(ascii: "?"):
            return !name.isEmpty && match(pattern.dropFirst(), name.dropFirst())
        case UInt8(ascii: "["):
            guard let close = pattern.dropFirst().firstIndex(of: UInt8(ascii: "]")), let char = name.first else { return false }
            return matchesClass(pattern[(pattern.startIndex + 1)..<close], char) && match(pattern[(close + 1)...], name.dropFirst())
        default:
            return name.first == first && match(pattern.dropFirst(), name.dropFirst())
        }
    }

    private static func matchesClass(_ set: ArraySlice<UInt8>, _ char: UInt8) -> Bool {
        var index = set.startIndex
        while index < set.endIndex {
            let low = set[index]
            if index + 2 < set.endIndex, set[index + 1] == UInt8(ascii: "-") {
                if (low...set[index + 2]).contains(char) { return true }
                index += 3
            } else {
                if low == char { return true }
                index += 1
            }
        }
        return false
    }
}
