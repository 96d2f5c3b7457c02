import Foundation

/// A line of progress on stderr (stdout carries the results).
public func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

public func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

/// "median (first-third quartile)"; "-" for no values.
public func summary(_ values: [Double], _ digits: Int = 3) -> String {
    guard !values.isEmpty else { return "-" }
    let (low, high) = middleHalf(values)
    return "\(format(median(values), digits)) (\(format(low, digits))-\(format(high, digits)))"
}
