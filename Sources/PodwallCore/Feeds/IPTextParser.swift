/// Byte-level address parsing for the feed hot path: no allocation, no
/// Foundation, no regex. Everything works on UTF-8 buffers and returns nil
/// on any deviation; callers turn nil into a reason naming the token.
enum IPTextParser {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static let dot = UInt8(ascii: ".")
    static let colon = UInt8(ascii: ":")
    static let zero = UInt8(ascii: "0")
    static let slash = UInt8(ascii: "/")

    /// Strict dotted quad: exactly four decimal octets 0-255. A leading zero
    /// ("01") is refused because some tools read it as octal.
    static func parseIPv4(_ text: Bytes) -> UInt32? {
        guard let (value, end) = scanIPv4(text), end == text.count else { return nil }
        return value
    }

    /// A strict dotted quad at the start of `text`, ended by the end of the
    /// text or a `/`, and the index where it ended. Lets the prefix parser
    /// handle the common IPv4 line in a single pass.
    static func scanIPv4(_ text: Bytes) -> (value: UInt32, end: Int)? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var octets = 0
        var firstDigit: UInt8 = 0
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == slash { break }
            index += 1
            if byte == dot {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | octet
                octets += 1
                octet = 0
                digits = 0
                continue
            }
            let digit = byte &- zero
            guard digit < 10 else { return nil }
            if digits == 0 {
                firstDigit = digit
            } else if firstDigit == 0 {
                return nil
            }
            octet = octet * 10 + UInt32(digit)
            digits += 1
            guard octet <= 255 else { return nil }
        }
        guard digits > 0, octets == 3 else { return nil }
        return (value << 8 | octet, index)
    }

    /// RFC 4291 text forms: eight 1-4 digit hex groups, at most one `::`
    /// standing for one or more zero groups, and optionally a dotted quad as
    /// the last 32 bits. Zone ids (`%eth0`) are not addresses and are refused.
    static func parseIPv6(_ text: Bytes) -> IPAddress? {
        let end = text.count
        var head = GroupAccumulator()  // groups before `::` (all, if none)
        var tail = GroupAccumulator()  // groups after `::`
        var sawGap = false
        var index = 0
        if end >= 2, text[0] == colon, text[1] == colon {
            sawGap = true
            index = 2
            if index == end { return IPAddress(high: 0, low: 0) }
        }
        while true {
            guard head.count + tail.count < 8 else { return nil }
            let chunkStart = index
            var value: UInt64 = 0
            while index < end, index - chunkStart <= 4, let digit = hexValue(text[index]) {
                value = value << 4 | UInt64(digit)
                index += 1
            }
            if index < end, text[index] == dot {
                // Embedded IPv4: must be the last 32 bits of the text.
                guard head.count + tail.count <= 6,
                    let ipv4 = parseIPv4(text.range(chunkStart, end))
                else { return nil }
                if sawGap {
                    tail.push(UInt64(ipv4 >> 16))
                    tail.push(UInt64(ipv4 & 0xffff))
                } else {
                    head.push(UInt64(ipv4 >> 16))
                    head.push(UInt64(ipv4 & 0xffff))
                }
                break
            }
            let digits = index - chunkStart
            guard digits >= 1, digits <= 4 else { return nil }
            if sawGap { tail.push(value) } else { head.push(value) }
            if index == end { break }
            guard text[index] == colon else { return nil }
            index += 1
            if index < end, text[index] == colon {
                guard !sawGap else { return nil }
                sawGap = true
                index += 1
                if index == end { break }
            }
        }
        let total = head.count + tail.count
        if sawGap {
            guard total < 8 else { return nil }  // `::` must stand for at least one group
            head.shiftLeft(groups: 8 - head.count)
            return IPAddress(high: head.high | tail.high, low: head.low | tail.low)
        }
        return total == 8 ? IPAddress(high: head.high, low: head.low) : nil
    }

    /// 16-bit groups shifted into a 128-bit value, without a buffer.
    private struct GroupAccumulator {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0

        mutating func push(_ group: UInt64) {
            high = high << 16 | low >> 48
            low = low << 16 | group
            count += 1
        }

        mutating func shiftLeft(groups: Int) {
            for _ in 0..<groups {
                high = high << 16 | low >> 48
                low <<= 16
            }
        }
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Decimal prefix length: 1-3 digits, no leading zero (so "/08" is
    /// refused like the octet "08").
    static func parseLength(_ text: Bytes) -> Int? {
        guard (1...3).contains(text.count), text.count == 1 || text[0] != zero else { return nil }
        var value = 0
        for byte in text {
            let digit = byte &- zero
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }
}
