import Foundation

extension Lab {
    /// A counter of a namespace's IP stack from `/proc/net/snmp`, e.g.
    /// `("Ip", "InReceives")` or `("Udp", "InDatagrams")`. Read from a thread
    /// inside the namespace (`/proc/thread-self/net` is that thread's), so
    /// a reading costs no process and can be taken many times a second.
    public func snmpCounter(_ namespace: String, group: String, field: String) throws -> Int {
        try NetworkNamespace.run(namespace) {
            let snmp = try String(contentsOfFile: "/proc/thread-self/net/snmp", encoding: .utf8)
            let lines = snmp.split(separator: "\n").filter { $0.hasPrefix("\(group): ") }.map { $0.split(separator: " ") }
            guard lines.count == 2, let column = lines[0].firstIndex(of: Substring(field)),
                column < lines[1].count, let value = Int(lines[1][column])
            else {
                throw NetworkNamespace.Failure(description: "no \(group) \(field) in /proc/net/snmp of \(namespace)")
            }
            return value
        }
    }
}
