/// A TCP ACK of flow `sourcePort` from a lab pod (198.18.0.11 → .12:80),
/// 64 bytes of payload: the packet of an established flow.
public func benchTCPPacket(sourcePort: UInt16) -> [UInt8] {
    var frame: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]
    frame += [0x45, 0, 0, 104, 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 11, 198, 18, 0, 12]
    frame += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), 0, 80, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]
    return frame + [UInt8](repeating: 0x61, count: 64)
}
