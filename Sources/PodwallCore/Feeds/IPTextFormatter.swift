/// Canonical address text: dotted quad for IPv4, RFC 5952 for IPv6
/// (lower-case hex, no leading zeros, the longest run of two or more zero
/// groups — the first on a tie — compressed to `::`).
enum IPTextFormatter {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func format(_ address: IPAddress) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(39)
        if let ipv4 = address.ipv4 {
            appendIPv4(ipv4, to: &text)
        } else {
            appendIPv6(address, to: &text)
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func appendIPv4(_ value: UInt32, to text: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) {
            if shift != 24 { text.append(UInt8(ascii: ".")) }
            appendDecimal(Int(value >> UInt32(shift) & 0xff), to: &text)
        }
    }

    private static func appendDecimal(_ value: Int, to text: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &text) }
        text.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private static func appendIPv6(_ address: IPAddress, to text: inout [UInt8]) {
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? address.high : address.low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
        }
        let gap = longestZeroRun(groups)
        var index = 0
        while index < 8 {
            if let gap, index == gap.lowerBound {
                text.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: ":")])
                index = gap.upperBound
                continue
            }
            if index > 0, text.last != UInt8(ascii: ":") { text.append(UInt8(ascii: ":")) }
            appendHex(groups[index], to: &text)
            index += 1
        }
    }

    private static func appendHex(_ group: UInt16, to text: inout [UInt8]) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = Int(group >> UInt16(shift) & 0xf)
            if nibble != 0 || started || shift == 0 {
                text.append(hexDigits[nibble])
                started = true
            }
        }
    }

    /// RFC 5952 4.2: only runs of two or more groups are compressed.
    private static func longestZeroRun(_ groups: [UInt16]) -> Range<Int>? {
        var best: Range<Int>? = nil
        var start: Int? = nil
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if start == nil { start = index }
            } else if let runStart = start {
                if index - runStart >= 2, index - runStart > best?.count ?? 0 {
                    best = runStart..<index
                }
                start = nil
            }
        }
        return best
    }
}
