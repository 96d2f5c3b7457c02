import Foundation

/// Plain BSD sockets for lab traffic whose packet and byte counts are known
/// exactly (a tool like nc may coalesce or split writes).
public enum LabSocket {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A bound UDP socket; returns its descriptor.
    public static func udpReceiver(address: String, port: UInt16) throws -> Int32 {
        let (family, storage, length) = try socketAddress(address, port)
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = storage
        let status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard status == 0 else { close(fd); throw Failure(description: "bind: errno \(errno)") }
        return fd
    }

    /// Receives datagrams until none arrives for the socket's timeout; returns how many.
    public static func drain(_ fd: Int32) -> Int {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var count = 0
        while recv(fd, &buffer, buffer.count, 0) >= 0 { count += 1 }
        return count
    }

    /// Sends `count` datagrams of `size` payload bytes from `sourcePort`.
    public static func sendUDP(to address: String, port: UInt16, sourcePort: UInt16, count: Int, size: Int) throws {
        let (family, storage, length) = try socketAddress(address, port)
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var any = try socketAddress(family == AF_INET ? "0.0.0.0" : "::", sourcePort).1
        _ = withUnsafePointer(to: &any) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        var destination = storage
        let payload = [UInt8](repeating: 0x5a, count: size)
        for _ in 0..<count {
            let sent = withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, payload, size, 0, $0, length) }
            }
            guard sent == size else { throw Failure(description: "sendto: errno \(errno)") }
            usleep(1000)  // no burst larger than a socket buffer
        }
    }

    /// Connects over TCP, sends `bytes`, closes; returns the local port used.
    public static func sendTCP(to address: String, port: UInt16, bytes: Int) throws -> UInt16 {
        let (family, storage, length) = try socketAddress(address, port)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var destination = storage
        let status = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard status == 0 else { throw Failure(description: "connect to \(address):\(port): errno \(errno)") }
        let chunk = [UInt8](repeating: 0x41, count: 65536)
        var remaining = bytes
        while remaining > 0 {
            let sent = send(fd, chunk, min(remaining, chunk.count), 0)
            guard sent > 0 else { throw Failure(description: "send: errno \(errno)") }
            remaining -= sent
        }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) }
        }
        shutdown(fd, Int32(SHUT_WR))
        var sink = [UInt8](repeating: 0, count: 1024)
        while recv(fd, &sink, sink.count, 0) > 0 {}
        return withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// A TCP server that accepts one connection and counts the bytes until EOF.
    public static func tcpListener(address: String, port: UInt16) throws -> Int32 {
        let (family, storage, length) = try socketAddress(address, port)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = storage
        let status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard status == 0, listen(fd, 8) == 0 else { close(fd); throw Failure(description: "bind/listen: errno \(errno)") }
        return fd
    }

    public static func acceptAndCount(_ listener: Int32) -> Int {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return -1 }
        defer { close(connection) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while true {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { return total }
            total += count
        }
    }

    /// The family, address and length to hand to bind/connect/sendto for an
    /// IPv4 or IPv6 address in text.
    public static func socketAddress(_ text: String, _ port: UInt16) throws -> (Int32, sockaddr_storage, socklen_t) {
        var storage = sockaddr_storage()
        if text.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, text, &address.sin6_addr) == 1 else { throw Failure(description: "bad address \(text)") }
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
            return (AF_INET6, storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, text, &address.sin_addr) == 1 else { throw Failure(description: "bad address \(text)") }
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
        return (AF_INET, storage, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
}
