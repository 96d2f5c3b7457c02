/// Why a token is not an address or prefix. Kept allocation-free so the
/// feed hot path only builds text for lines that actually fail.
public enum IPParseError: Error, Hashable, Sendable {
    case notIPv4
    case notIPv6
    /// Neither `.` nor `:` — not even shaped like an address.
    case notAnAddress
    /// The text after `/` is not a plain decimal number.
    case invalidPrefixLength
    case prefixLengthOutOfRange(length: Int, family: IPFamily)
    /// Feeds never set host bits; a feed that does is most likely broken,
    /// and silently masking would block a wider range than the author meant.
    /// Refused everywhere (feeds, config, command line); `masked` is the
    /// prefix without them, for telling a person what to write.
    case hostBitsSet(masked: IPPrefix)
    /// A `/length` where only a single address is accepted.
    case notSingleAddress

    /// One sentence fragment naming the offending token, as used after
    /// `source:line:` in feed errors.
    public func reason(for token: String) -> String {
        let quoted = "'\(token)'"
        switch self {
        case .notIPv4:
            return "\(quoted) is not an IPv4 address"
        case .notIPv6:
            return "\(quoted) is not an IPv6 address"
        case .notAnAddress:
            return "\(quoted) is not an IP address or prefix"
        case .invalidPrefixLength:
            return "\(quoted) has an invalid prefix length"
        case .prefixLengthOutOfRange(let length, let family):
            return "\(quoted) has prefix length \(length), \(family) allows 0-\(family.maxPrefixLength)"
        case .hostBitsSet:
            return "\(quoted) has host bits set"
        case .notSingleAddress:
            return "\(quoted) is a prefix, not a single address"
        }
    }

    /// `reason(for:)` plus, for host bits, the prefix without them: for a
    /// person's input (config, command line); feeds keep the short reason.
    public func explanation(for token: String) -> String {
        guard case .hostBitsSet(let masked) = self else { return reason(for: token) }
        return "\(reason(for: token)); did you mean \(masked)?"
    }
}
