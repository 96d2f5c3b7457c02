/// A network namespace's own addresses as /proc/PID/net shows them (the
/// namespace of process PID): what a pod's connect() would send from, for
/// alerts of the cgroup hooks, which see the process but not the packet.
public enum NamespaceAddresses {
    /// The local IPv4 addresses in /proc/PID/net/fib_trie (an address line
    /// `|-- a.b.c.d` followed by `/32 host LOCAL`), loopback left out.
    public static func ipv4(fibTrie text: String) -> [IPAddress] {
        var found: [IPAddress] = []
        var last: IPAddress?
        for line in text.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " })
            if trimmed.hasPrefix("|-- ") {
                last = IPAddress(String(trimmed.dropFirst(4)))
            } else if trimmed.hasPrefix("/32 host LOCAL"), let address = last {
                if !address.isLoopback, !found.contains(address) { found.append(address) }
                last = nil
            }
        }
        return found
    }

    /// The global-scope IPv6 addresses in /proc/PID/net/if_inet6 (32 hex
    /// digits, ifindex, prefix length, scope, flags, name; scope 00 is global).
    public static func ipv6(ifInet6 text: String) -> [IPAddress] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[3] == "00", fields[0].count == 32 else { return nil }
            var bytes: [UInt8] = []
            var hex = fields[0][...]
            while !hex.isEmpty {
                guard let byte = UInt8(hex.prefix(2), radix: 16) else { return nil }
                bytes.append(byte)
                hex = hex.dropFirst(2)
            }
            return IPAddress(bytes: bytes)
        }
    }
}
