import PodwallCore
import PodwallDetection

/// `podwall run --response KIND=ACTION[:TTL][+capture]`: what the agent does
/// about one kind of alert (`port_scan=alert`, `exfiltration=block:30m+capture`).
public enum ResponseOption {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws -> (AlertKind, ResponseRule) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = AlertKind(rawValue: parts[0]) else {
            let kinds = AlertKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw Invalid(description: "--response '\(text)': the kind is one of \(kinds)")
        }
        var actionText = parts[1]
        let capture = actionText.hasSuffix("+capture") || actionText == "capture"
        if actionText.hasSuffix("+capture") { actionText.removeLast("+capture".count) }
        if actionText == "capture" { actionText = "alert" }
        let action = actionText.split(separator: ":", maxSplits: 1).map(String.init)
        var ttl: UInt32 = action.first == "quarantine" ? 600 : 3600
        if action.count == 2 {
            guard let seconds = GoDuration.seconds(action[1]), seconds >= 1 else {
                throw Invalid(description: "--response '\(text)': '\(action[1])' is not a duration such as 10m or 1h")
            }
            ttl = UInt32(seconds)
        }
        switch action.first {
        case "alert": return (kind, ResponseRule(capture: capture))
        case "block": return (kind, ResponseRule(blockTTLSeconds: ttl, capture: capture))
        case "quarantine": return (kind, ResponseRule(quarantineTTLSeconds: ttl, capture: capture))
        default: throw Invalid(description: "--response '\(text)': the action is alert, block or quarantine, optionally with +capture")
        }
    }
}
