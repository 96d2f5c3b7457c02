import Foundation
import PodwallLab
import PodwallTestSupport

struct TrafficFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A stop flag and a counter shared with a traffic thread.
private final class TrafficState: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var total = 0
    private var last: Date?
    private var gap = 0.0
    let done = DispatchSemaphore(value: 0)

    var shouldStop: Bool { lock.withLock { stopping } }
    func stop() { lock.withLock { stopping = true } }
    var count: Int { lock.withLock { total } }
    var longestGap: Double { lock.withLock { gap } }

    func add(_ count: Int) { lock.withLock { total += count } }

    /// One datagram arrived: counted, and the longest silence between two remembered.
    func arrived() {
        let now = Date()
        lock.withLock {
            total += 1
            if let last { gap = max(gap, now.timeIntervalSince(last)) }
            last = now
        }
    }
}

/// Counts the UDP datagrams that reach a socket in a lab namespace, on a
/// thread of its own, until `finish()`. A socket stays in the namespace it
/// was made in, so only its creation needs `NetworkNamespace.run`.
final class DatagramCounter: @unchecked Sendable {
    private let fd: Int32
    private let state = TrafficState()

    init(namespace: String, address: String, port: UInt16) throws {
        let fd = try NetworkNamespace.run(namespace) { try LabSocket.udpReceiver(address: address, port: port) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        Thread.detachNewThread { [state] in
            var bytes = [UInt8](repeating: 0, count: 2048)
            while !state.shouldStop {
                if recv(fd, &bytes, bytes.count, 0) >= 0 { state.arrived() }
            }
            state.done.signal()
        }
    }

    deinit { _ = finish() }

    var received: Int { state.count }

    /// Stops counting (after a last 0.2 s for datagrams in flight); returns
    /// how many arrived and the longest silence between two of them.
    @discardableResult
    func finish() -> (count: Int, longestGap: Double) {
        if fd >= 0, !state.shouldStop {
            usleep(200_000)
            state.stop()
            state.done.wait()
            close(fd)
        }
        return (state.count, state.longestGap)
    }
}

/// Sends UDP datagrams from a lab namespace as fast as `burst` per `pause`
/// allows, round-robin over its targets, until `stop()`. A target with a
/// range of ports makes a new flow of every datagram until the range wraps.
final class UDPFlood: @unchecked Sendable {
    struct Target: Sendable {
        let address: String
        let ports: ClosedRange<UInt16>
    }

    private let state = TrafficState()

    init(namespace: String, targets: [Target], burst: Int, pauseMicroseconds: UInt32, payload: Int = 16) throws {
        let destinations = try targets.map { target in
            try target.ports.map { port in
                let (family, address, length) = try LabSocket.socketAddress(target.address, port)
                guard family == AF_INET else { throw TrafficFailure("not an IPv4 address: \(target.address)") }
                return (address, length)
            }
        }
        // Unbound: the kernel picks one source port, so a single-port target is one flow.
        let fd = try NetworkNamespace.run(namespace) { socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
        guard fd >= 0 else { throw TrafficFailure("socket: errno \(errno)") }
        Thread.detachNewThread { [state] in
            let bytes = [UInt8](repeating: 0x5a, count: payload)
            var next = [Int](repeating: 0, count: destinations.count)
            while !state.shouldStop {
                var sent = 0
                for _ in 0..<burst {
                    for (index, ports) in destinations.enumerated() {
                        let (address, length) = ports[next[index]]
                        next[index] = (next[index] + 1) % ports.count
                        let result = withUnsafePointer(to: address) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, length) }
                        }
                        if result == bytes.count { sent += 1 }
                    }
                }
                state.add(sent)
                usleep(pauseMicroseconds)
            }
            close(fd)
            state.done.signal()
        }
    }

    deinit { _ = stop() }

    var sent: Int { state.count }

    /// Stops sending; returns how many datagrams the kernel accepted.
    @discardableResult
    func stop() -> Int {
        if !state.shouldStop {
            state.stop()
            state.done.wait()
        }
        return state.count
    }
}

extension Lab {
    /// IPv4 packets a namespace's stack received (`Ip: InReceives`), from
    /// any sender, to any port: what a block must keep at zero.
    func ipv4Received(_ namespace: String) throws -> Int {
        try snmpCounter(namespace, group: "Ip", field: "InReceives")
    }
}
