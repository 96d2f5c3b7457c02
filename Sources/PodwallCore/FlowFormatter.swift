/// Renders flows for `podwall flows`: JSON lines or a table.
public struct FlowFormatter: Sendable {
    /// Interface names by ifindex; unknown ones print as `if<N>`.
    public var interfaceNames: [UInt32: String]
    /// Converts kernel monotonic nanoseconds to Unix nanoseconds (injected,
    /// because the core reads no clock).
    public var wallClockOffset: Int64
    /// The pod behind each interface, as a running agent names it (empty
    /// without one: the table then has no POD NAME column).
    public var podNames: [UInt32: String]
    /// The process whose connect() opened each flow, as a running agent
    /// knows it (empty without one: the table then has no PROCESS column).
    public var processes: [FlowKey: AlertProcess]

    public init(
        interfaceNames: [UInt32: String], wallClockOffset: Int64, podNames: [UInt32: String] = [:],
        processes: [FlowKey: AlertProcess] = [:]
    ) {
        self.interfaceNames = interfaceNames
        self.wallClockOffset = wallClockOffset
        self.podNames = podNames
        self.processes = processes
    }

    public func interfaceName(_ ifindex: UInt32) -> String {
        interfaceNames[ifindex] ?? "if\(ifindex)"
    }

    public func json(_ flow: FlowRecord) -> String {
        var line = JSONLine()
        line.field("interface", interfaceName(flow.key.ifindex))
        line.field("ifindex", flow.key.ifindex)
        if let name = podNames[flow.key.ifindex] { line.field("pod_name", name) }
        line.field("proto", flow.key.proto.description)
        line.field("family", flow.key.pod.family == .v4 ? "ipv4" : "ipv6")
        line.field("pod", flow.key.pod.description)
        line.field("pod_port", flow.key.podPort)
        line.field("remote", flow.key.remote.description)
        line.field("remote_port", flow.key.remotePort)
        line.field("initiator", flow.podInitiated ? "pod" : "remote")
        if let process = processes[flow.key] { line.field("process", object: process.jsonObject) }
        line.field("first_seen", Timestamp.rfc3339(nanoseconds: Int64(flow.firstSeen) + wallClockOffset))
        line.field("last_seen", Timestamp.rfc3339(nanoseconds: Int64(flow.lastSeen) + wallClockOffset))
        line.field("first_seen_ns", flow.firstSeen)
        line.field("last_seen_ns", flow.lastSeen)
        for direction in FlowDirection.allCases {
            let counters = flow.counters(direction)
            var object = JSONLine()
            object.field("packets", counters.packets)
            object.field("bytes", counters.bytes)
            if flow.key.proto == .tcp { object.field("tcp_flags", counters.tcpFlags.description) }
            line.field(direction.label, object: object)
        }
        return line.rendered
    }

    public func table(_ flows: [FlowRecord]) -> String {
        let (named, opened) = (!podNames.isEmpty, !processes.isEmpty)
        let header =
            ["INTERFACE"] + (named ? ["POD NAME"] : []) + (opened ? ["PROCESS"] : [])
            + ["PROTO", "POD", "REMOTE", "INIT", "PKTS OUT", "BYTES OUT", "PKTS IN", "BYTES IN", "FLAGS OUT/IN"]
        let rows = flows.map { flow -> [String] in
            [interfaceName(flow.key.ifindex)] + (named ? [podNames[flow.key.ifindex] ?? "-"] : [])
                + (opened ? [processes[flow.key]?.label ?? "-"] : []) + [
                    flow.key.proto.description,
                    Self.endpoint(flow.key.pod, flow.key.podPort, flow.key.proto),
                    Self.endpoint(flow.key.remote, flow.key.remotePort, flow.key.proto),
                    flow.podInitiated ? "pod" : "remote",
                    String(flow.fromPod.packets), String(flow.fromPod.bytes),
                    String(flow.toPod.packets), String(flow.toPod.bytes),
                    flow.key.proto == .tcp ? "\(flow.fromPod.tcpFlags)/\(flow.toPod.tcpFlags)" : "-"
                ]
        }
        return TextTable.render(header: header, rows: rows)
    }

    public static func endpoint(_ address: IPAddress, _ port: UInt16, _ proto: IPProtocol) -> String {
        guard proto == .tcp || proto == .udp else { return address.description }
        return address.family == .v4 ? "\(address):\(port)" : "[\(address)]:\(port)"
    }
}

/// Left-aligned columns separated by two spaces.
public enum TextTable {
    public static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
