/// Go `time.Duration` text, as CrowdSec writes decision durations:
/// `3h59m12s`, `59m0.5s`, `1.5h`, `300ms`, `-2h` (deleted decisions).
public enum GoDuration {
    private static let unitSeconds: [String: Double] = [
        "ns": 1e-9, "us": 1e-6, "\u{B5}s": 1e-6, "\u{3BC}s": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600
    ]

    /// Go's limit: an Int64 count of nanoseconds, about 292 years.
    static let maxSeconds = Double(Int64.max) / 1e9

    /// The duration in seconds, or nil when `text` is not a Go duration.
    public static func seconds(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unit.count)
            guard number.contains(where: \.isNumber), number.filter({ $0 == "." }).count <= 1,
                let value = Double(number.hasPrefix(".") ? "0" + number : String(number)),
                let scale = unitSeconds[String(unit)]
            else { return nil }
            total += value * scale
        }
        return total <= maxSeconds ? sign * total : nil
    }
}
