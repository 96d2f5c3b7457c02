/// Builds Ethernet frames: VLAN tags, IPv4 with options and fragment fields,
/// IPv6 with extension headers, TCP, UDP and ICMP. The tests craft packets
/// for BPF_PROG_TEST_RUN with it; alert captures rebuild the packet whose
/// payload triggered a protocol alert. Checksums are left zero: the data path
/// does not check them.
public struct PacketBuilder {
    public enum Network {
        case ipv4(
            source: [UInt8], destination: [UInt8], options: [UInt8] = [], fragmentOffset: UInt16 = 0,
            moreFragments: Bool = false, identification: UInt16 = 0x1234)
        case ipv6(source: [UInt8], destination: [UInt8], extensionHeaders: [IPv6Extension] = [])
    }

    public enum IPv6Extension {
        case hopByHop(length: Int)  // total bytes, a multiple of 8
        case destination(length: Int)
        case routing(length: Int)
        case fragment(offset: UInt16, more: Bool, identification: UInt32)

        var nextHeaderValue: UInt8 {
            switch self {
            case .hopByHop: 0
            case .destination: 60
            case .routing: 43
            case .fragment: 44
            }
        }
    }

    public enum Transport {
        case tcp(source: UInt16, destination: UInt16, flags: UInt8, dataOffsetWords: UInt8 = 5, sequence: UInt32 = 1)
        case udp(source: UInt16, destination: UInt16)
        case icmp(type: UInt8, code: UInt8, identifier: UInt16)
        case icmpv6(type: UInt8, code: UInt8, identifier: UInt16)
        case raw(proto: UInt8)

        var proto: UInt8 {
            switch self {
            case .tcp: 6
            case .udp: 17
            case .icmp: 1
            case .icmpv6: 58
            case .raw(let proto): proto
            }
        }
    }

    public var vlanTags: [UInt16] = []  // outer first
    public var qinq = false  // outer tag 802.1ad
    public var network: Network
    public var transport: Transport
    public var payload: [UInt8] = []

    public init(network: Network, transport: Transport, payload: [UInt8] = [], vlanTags: [UInt16] = [], qinq: Bool = false) {
        self.network = network
        self.transport = transport
        self.payload = payload
        self.vlanTags = vlanTags
        self.qinq = qinq
    }

    /// A frame for a flow as seen from the pod, with the pod's or the remote's payload.
    public init(flow key: FlowKey, fromPod: Bool, tcpFlags: UInt8 = 0x18, payload: [UInt8]) {
        let pod = key.pod.bytes, remote = key.remote.bytes
        let (source, destination) = fromPod ? (pod, remote) : (remote, pod)
        let (sourcePort, destinationPort) = fromPod ? (key.podPort, key.remotePort) : (key.remotePort, key.podPort)
        let network: Network =
            key.pod.family == .v4
            ? .ipv4(source: Array(source.suffix(4)), destination: Array(destination.suffix(4)))
            : .ipv6(source: source, destination: destination)
        let transport: Transport =
            switch key.proto {
            case .tcp: .tcp(source: sourcePort, destination: destinationPort, flags: tcpFlags)
            case .udp: .udp(source: sourcePort, destination: destinationPort)
            default: .raw(proto: key.proto.rawValue)
            }
        self.init(network: network, transport: transport, payload: payload)
    }

    public static func v4(_ text: String) -> [UInt8] {
        text.split(separator: ".").map { UInt8($0)! }
    }

    /// The 16 bytes of an IPv6 address in text ("fd00::1").
    public static func v6(_ text: String) -> [UInt8] {
        IPAddress(text)!.bytes
    }

    public func build() -> [UInt8] {
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]
        let l4 = transportHeader() + payload
        let (etherType, l3) = networkHeader(carrying: l4)
        for (index, tag) in vlanTags.enumerated() {
            frame += be16(index == 0 && qinq ? 0x88a8 : 0x8100) + be16(tag)
        }
        return frame + be16(etherType) + l3 + l4
    }

    private func transportHeader() -> [UInt8] {
        switch transport {
        case let .tcp(source, destination, flags, words, sequence):
            var header = be16(source) + be16(destination) + be32(sequence) + [0, 0, 0, 0] + [words << 4, flags] + [0xff, 0xff, 0, 0, 0, 0]
            if words > 5 { header += [UInt8](repeating: 1, count: Int(words - 5) * 4) }  // NOP options
            return header
        case let .udp(source, destination):
            return be16(source) + be16(destination) + be16(UInt16(8 + payload.count)) + [0, 0]
        case let .icmp(type, code, identifier), let .icmpv6(type, code, identifier):
            return [type, code, 0, 0] + be16(identifier) + [0, 1]
        case .raw:
            return []
        }
    }

    private func networkHeader(carrying l4: [UInt8]) -> (UInt16, [UInt8]) {
        switch network {
        case let .ipv4(source, destination, options, offset, more, identification):
            let headerLength = 20 + options.count
            let fragment = (more ? 0x2000 : 0) | (offset / 8)
            let header: [UInt8] =
                [0x40 | UInt8(headerLength / 4), 0] + be16(UInt16(headerLength + l4.count))
                + be16(identification) + be16(fragment) + [64, transport.proto, 0, 0] + source + destination + options
            return (0x0800, header)
        case let .ipv6(source, destination, extensions):
            var chain: [UInt8] = []
            for (index, header) in extensions.enumerated() {
                let next = index + 1 < extensions.count ? extensions[index + 1].nextHeaderValue : transport.proto
                switch header {
                case .hopByHop(let length), .destination(let length), .routing(let length):
                    chain += [next, UInt8(length / 8 - 1)] + [UInt8](repeating: 0, count: length - 2)
                case let .fragment(offset, more, identification):
                    chain += [next, 0] + be16((offset / 8) << 3 | (more ? 1 : 0)) + be32(identification)
                }
            }
            let first = extensions.first?.nextHeaderValue ?? transport.proto
            let header: [UInt8] = [0x60, 0, 0, 0] + be16(UInt16(chain.count + l4.count)) + [first, 64] + source + destination
            return (0x86dd, header + chain)
        }
    }

    private func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
    private func be32(_ value: UInt32) -> [UInt8] { be16(UInt16(value >> 16)) + be16(UInt16(value & 0xffff)) }
    private func be16(_ value: Int) -> [UInt8] { be16(UInt16(value)) }
}
