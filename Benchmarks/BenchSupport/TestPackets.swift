/// A TCP segment of flow `sourcePort` from a lab pod (198.18.0.11 →
/// 198.18.`host`:80); by default an ACK with 64 bytes of payload, the packet
/// of an established flow; `flags` 0x02 and no payload is a flood's SYN.
public func benchTCPPacket(sourcePort: UInt16, host: UInt16 = 12, flags: UInt8 = 0x10, payload: Int = 64) -> [UInt8] {
    let length = 40 + payload
    var frame: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]
    frame += [0x45, 0, UInt8(length >> 8), UInt8(length & 0xff), 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 11, 198, 18]
    frame += [UInt8(host >> 8), UInt8(host & 0xff)]
    frame += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), 0, 80, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
    return frame + [UInt8](repeating: 0x61, count: payload)
}
