import PodwallCore
import PodwallDetection

/// `podwall run --response KIND=ACTION[:TTL][+ACTION...]`: what the agent does
/// about one kind of alert (`port_scan=alert`, `exfiltration=block:30m+capture`,
/// `reverse_shell=kill+block:24h+capture`).
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
        var rule = ResponseRule()
        let kernelKinds = AlertKind.allCases.filter(\.isJudgedInKernel).map(\.rawValue).joined(separator: ", ")
        for part in parts[1].split(separator: "+", omittingEmptySubsequences: false).map(String.init) {
            let action = part.split(separator: ":", maxSplits: 1).map(String.init)
            var ttl: UInt32 = action.first == "quarantine" ? 600 : 3600
            if action.count == 2 {
                guard let seconds = GoDuration.seconds(action[1]), seconds >= 1 else {
                    throw Invalid(description: "--response '\(text)': '\(action[1])' is not a duration such as 10m or 1h")
                }
                ttl = UInt32(seconds)
            }
            switch action.first {
            case "alert": break
            case "capture": rule.capture = true
            case "block": rule.blockTTLSeconds = ttl
            case "quarantine": rule.quarantineTTLSeconds = ttl
            case "kill" where kind.isJudgedInKernel: rule.kill = true
            case "kill":
                throw Invalid(
                    description:
                        "--response '\(text)': kill is for kinds judged in the kernel (\(kernelKinds)), where the process dies at its exec or syscall"
                )
            default:
                throw Invalid(
                    description:
                        "--response '\(text)': the action is alert, block[:TTL], quarantine[:TTL] or kill, joined by +, optionally with +capture"
                )
            }
        }
        return (kind, rule)
    }
}
