/// RFC 4180 field splitting for one line: fields separated by `,`,
/// optionally double-quoted with `""` standing for a quote.
enum CSVRow {
    private static let comma = UInt8(ascii: ",")
    private static let quote = UInt8(ascii: "\"")

    /// The fields of `line`, or nil when its quoting is malformed.
    static func fields(_ line: UTF8Bytes) -> [String]? {
        var fields: [String] = []
        var index = 0
        while true {
            var field: [UInt8] = []
            if index < line.count, line[index] == quote {
                index += 1
                while true {
                    guard index < line.count else { return nil }  // unterminated quote
                    if line[index] == quote {
                        if index + 1 < line.count, line[index + 1] == quote {
                            field.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    field.append(line[index])
                    index += 1
                }
                guard index == line.count || line[index] == comma else { return nil }
            } else {
                while index < line.count, line[index] != comma {
                    guard line[index] != quote else { return nil }
                    field.append(line[index])
                    index += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            guard index < line.count else { return fields }
            index += 1  // comma
        }
    }
}
