/// Decodes captured frames the way the kernel data path parses them
/// (Ethernet, 802.1Q/802.1ad, IPv4 with options and fragments, IPv6 with a
/// bounded extension-header walk, TCP, UDP, ICMP), for `podwall replay`.
public struct DecodedPacket: Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var proto: IPProtocol
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var tcpFlags: TCPFlags
    /// TCP: the segment's sequence number.
    public var tcpSequence: UInt32 = 0
    /// The first payload bytes (at most 32, as the kernel keeps).
    public var payload: [UInt8]
    public var wireLength: Int
    /// An IPv4 fragment's identification, and whether it is a later one
    /// (no ports); nil when the packet is not a fragment.
    public var ipv4Fragment: (id: UInt16, later: Bool)? = nil
}

public enum LinkType: Int32, Sendable {
    case ethernet = 1
    case raw = 101
    case linuxCooked = 113
}

public enum PacketDecoder {
    static let payloadSnap = 32
    static let maxExtensionHeaders = 8

    public static func decode(_ frame: UnsafeRawBufferPointer, linkType: LinkType, wireLength: Int) -> DecodedPacket? {
        var reader = ByteReader(frame)
        var etherType: UInt16
        switch linkType {
        case .ethernet:
            guard reader.skip(12), let type = reader.u16() else { return nil }
            etherType = type
        case .linuxCooked:
            guard reader.skip(14), let type = reader.u16() else { return nil }
            etherType = type
        case .raw:
            guard let first = reader.peek() else { return nil }
            etherType = first >> 4 == 6 ? 0x86dd : 0x0800
        }
        for _ in 0..<2 where etherType == 0x8100 || etherType == 0x88a8 {
            guard reader.skip(2), let inner = reader.u16() else { return nil }
            etherType = inner
        }
        switch etherType {
        case 0x0800: return decodeIPv4(&reader, wireLength: wireLength)
        case 0x86dd: return decodeIPv6(&reader, wireLength: wireLength)
        default: return nil
        }
    }

    private static func decodeIPv4(_ reader: inout ByteReader, wireLength: Int) -> DecodedPacket? {
        let start = reader.offset
        guard let versionIHL = reader.u8(), versionIHL >> 4 == 4, reader.skip(3), let identification = reader.u16(),
            let fragment = reader.u16(),
            reader.skip(1), let proto = reader.u8(), reader.skip(2), let source = reader.u32(), let destination = reader.u32()
        else { return nil }
        let headerLength = Int(versionIHL & 0x0f) * 4
        guard headerLength >= 20 else { return nil }
        reader.offset = start + headerLength
        var packet = DecodedPacket(
            source: IPAddress(ipv4: source), destination: IPAddress(ipv4: destination), proto: IPProtocol(rawValue: proto),
            sourcePort: 0, destinationPort: 0, tcpFlags: [], payload: [], wireLength: wireLength)
        let offset = fragment & 0x1fff, moreFragments = fragment & 0x2000 != 0
        if offset != 0 || moreFragments { packet.ipv4Fragment = (identification, offset != 0) }
        // Later fragments carry no ports: addresses only, as in the kernel.
        if offset != 0 { return packet }
        decodeTransport(&reader, into: &packet)
        return packet
    }

    private static func decodeIPv6(_ reader: inout ByteReader, wireLength: Int) -> DecodedPacket? {
        guard let first = reader.u8(), first >> 4 == 6, reader.skip(5), var next = reader.u8(), reader.skip(1),
            let source = reader.address(), let destination = reader.address()
        else { return nil }
        var packet = DecodedPacket(
            source: source, destination: destination, proto: IPProtocol(rawValue: next),
            sourcePort: 0, destinationPort: 0, tcpFlags: [], payload: [], wireLength: wireLength)
        for _ in 0..<maxExtensionHeaders {
            switch next {
            case 0, 43, 60, 51:
                let start = reader.offset
                guard let following = reader.u8(), let length = reader.u8() else { return packet }
                reader.offset = start + (next == 51 ? (Int(length) + 2) * 4 : (Int(length) + 1) * 8)
                next = following
            case 44:
                guard let following = reader.u8(), reader.skip(1), let offset = reader.u16(), reader.skip(4) else { return packet }
                packet.proto = IPProtocol(rawValue: following)
                if offset & 0xfff8 != 0 { return packet }
                next = following
            default:
                packet.proto = IPProtocol(rawValue: next)
                decodeTransport(&reader, into: &packet)
                return packet
            }
        }
        return packet
    }

    private static func decodeTransport(_ reader: inout ByteReader, into packet: inout DecodedPacket) {
        let start = reader.offset
        switch packet.proto {
        case .tcp:
            guard let source = reader.u16(), let destination = reader.u16(), let high = reader.u16(), let low = reader.u16(),
                reader.skip(4), let offset = reader.u8(), let flags = reader.u8(), offset >> 4 >= 5
            else { return }
            (packet.sourcePort, packet.destinationPort) = (source, destination)
            packet.tcpFlags = TCPFlags(rawValue: UInt32(flags))
            packet.tcpSequence = UInt32(high) << 16 | UInt32(low)
            reader.offset = start + Int(offset >> 4) * 4
        case .udp:
            guard let source = reader.u16(), let destination = reader.u16(), reader.skip(4) else { return }
            (packet.sourcePort, packet.destinationPort) = (source, destination)
        case .icmp, .icmpv6:
            guard let type = reader.u8(), let code = reader.u8(), reader.skip(2), let identifier = reader.u16(), reader.skip(2) else {
                return
            }
            let echo = [0, 8, 128, 129].contains(type)
            let port = echo ? identifier : UInt16(type) << 8 | UInt16(code)
            (packet.sourcePort, packet.destinationPort) = (port, port)
        default:
            return
        }
        packet.payload = reader.remaining(max: payloadSnap)
    }
}

/// Bounds-checked big-endian reads over a captured frame.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func skip(_ count: Int) -> Bool {
        guard offset + count <= bytes.count else { return false }
        offset += count
        return true
    }

    func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16? {
        guard let high = u8(), let low = u8() else { return nil }
        return UInt16(high) << 8 | UInt16(low)
    }

    mutating func u32() -> UInt32? {
        guard let high = u16(), let low = u16() else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    mutating func address() -> IPAddress? {
        guard offset + 16 <= bytes.count else { return nil }
        defer { offset += 16 }
        return IPAddress(bytes: bytes[offset..<offset + 16])
    }

    func remaining(max: Int) -> [UInt8] {
        guard offset < bytes.count else { return [] }
        return Array(bytes[offset..<min(bytes.count, offset + max)])
    }
}
