import Glibc

/// Whether anything accepts TCP connections at an address, decided by one
/// connect: refused (no agent) is a no at once, so the CLI can then wait
/// for a busy agent's answer as long as it takes without slowing every
/// command that runs without one.
enum ListeningProbe {
    static func accepts(_ address: APIAddress, timeoutMs: Int32 = 1000) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &found) == 0, let first = found else { return false }
        defer { freeaddrinfo(found) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if connects(current.pointee, timeoutMs: timeoutMs) { return true }
            entry = current.pointee.ai_next
        }
        return false
    }

    private static func connects(_ info: addrinfo, timeoutMs: Int32) -> Bool {
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), info.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, timeoutMs) == 1 else { return false }
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0 && failure == 0
    }
}
