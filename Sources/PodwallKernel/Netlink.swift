import CPodwallShim
import Glibc

/// A libmnl rtnetlink socket with request/dump helpers. Messages are handed
/// to a Swift closure through libmnl's C callback and a context pointer.
final class NetlinkSocket: @unchecked Sendable {  // a libmnl socket: one thread at a time uses it
    let socket: OpaquePointer
    let portID: UInt32
    /// libmnl's MNL_SOCKET_BUFFER_SIZE is a macro Swift cannot import; 32 KiB
    /// holds any single rtnetlink datagram.
    static let bufferSize = 32768
    private var sequence: UInt32 = UInt32(truncatingIfNeeded: time(nil))

    init(groups: UInt32 = 0) throws {
        guard let socket = mnl_socket_open(NETLINK_ROUTE) else {
            throw KernelError("opening", "rtnetlink socket", errno: Glibc.errno)
        }
        self.socket = socket
        guard mnl_socket_bind(socket, groups, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let code = Glibc.errno
            mnl_socket_close(socket)
            throw KernelError("binding", "rtnetlink socket", errno: code)
        }
        portID = mnl_socket_get_portid(socket)
    }

    deinit {
        mnl_socket_close(socket)
    }

    /// Wakes a blocked receive within `milliseconds` so a reader thread can stop.
    func setReceiveTimeout(milliseconds: Int) {
        var timeout = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends a dump request built by `fill` (which gets the message header)
    /// and calls `handle` for every reply message until the dump is done.
    func dump(type: UInt16, fill: (UnsafeMutablePointer<nlmsghdr>) -> Void, handle: (UnsafePointer<nlmsghdr>) -> Void) throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let header = mnl_nlmsg_put_header(buffer)!
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_DUMP)
        sequence &+= 1
        header.pointee.nlmsg_seq = sequence
        fill(header)
        guard mnl_socket_sendto(socket, header, Int(header.pointee.nlmsg_len)) >= 0 else {
            throw KernelError("sending rtnetlink dump request", "type \(type)", errno: Glibc.errno)
        }
        try receive(buffer: buffer, sequence: sequence, handle: handle)
    }

    /// Sends one request (not a dump) and hands its single reply to `handle`.
    func request(type: UInt16, fill: (UnsafeMutablePointer<nlmsghdr>) -> Void, handle: (UnsafePointer<nlmsghdr>) -> Void) throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let header = mnl_nlmsg_put_header(buffer)!
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST)
        sequence &+= 1
        header.pointee.nlmsg_seq = sequence
        fill(header)
        guard mnl_socket_sendto(socket, header, Int(header.pointee.nlmsg_len)) >= 0 else {
            throw KernelError("sending rtnetlink request", "type \(type)", errno: Glibc.errno)
        }
        let count = mnl_socket_recvfrom(socket, buffer, Self.bufferSize)
        guard count >= 0 else { throw KernelError("receiving rtnetlink reply", "type \(type)", errno: Glibc.errno) }
        if run(buffer: buffer, count: count, sequence: sequence, handle: handle) < 0 {
            throw KernelError("rtnetlink request", "type \(type)", errno: Glibc.errno)
        }
    }

    /// Receives one datagram (blocking up to the receive timeout) and passes
    /// each message to `handle`. Returns false on timeout.
    func receiveOnce(handle: (UnsafePointer<nlmsghdr>) -> Void) throws -> Bool {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let count = mnl_socket_recvfrom(socket, buffer, Self.bufferSize)
        if count < 0 {
            let code = Glibc.errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return false }
            // ENOBUFS: the kernel dropped notifications; the caller resyncs.
            throw KernelError("receiving rtnetlink messages on", "link watch socket", errno: code)
        }
        _ = run(buffer: buffer, count: count, sequence: 0, handle: handle)
        return true
    }

    private func receive(buffer: UnsafeMutableRawPointer, sequence: UInt32, handle: (UnsafePointer<nlmsghdr>) -> Void) throws {
        while true {
            let count = mnl_socket_recvfrom(socket, buffer, Self.bufferSize)
            guard count >= 0 else { throw KernelError("receiving rtnetlink dump", "reply", errno: Glibc.errno) }
            let result = run(buffer: buffer, count: count, sequence: sequence, handle: handle)
            if result == MNL_CB_STOP { return }
            if result < 0 { throw KernelError("parsing rtnetlink dump", "reply", errno: Glibc.errno) }
        }
    }

    private func run(buffer: UnsafeMutableRawPointer, count: Int, sequence: UInt32, handle: (UnsafePointer<nlmsghdr>) -> Void) -> Int32 {
        withoutActuallyEscaping(handle) { handle in
            var box = handle
            return withUnsafeMutablePointer(to: &box) { context in
                mnl_cb_run(
                    buffer, count, sequence, portID,
                    { header, context in
                        guard let header, let context else { return MNL_CB_OK }
                        context.assumingMemoryBound(to: ((UnsafePointer<nlmsghdr>) -> Void).self).pointee(header)
                        return MNL_CB_OK
                    }, context)
            }
        }
    }
}

/// Counts TC filters on an interface's clsact hooks (through a filter dump).
enum TCFilterDump {
    static func count(ifindex: UInt32) throws -> Int {
        let socket = try NetlinkSocket()
        var filters = 0
        for minor in [UInt32(0xfff2), UInt32(0xfff3)] {  // TC_H_MIN_INGRESS, TC_H_MIN_EGRESS
            try socket.dump(
                type: UInt16(RTM_GETTFILTER),
                fill: { header in
                    let message = mnl_nlmsg_put_extra_header(header, MemoryLayout<tcmsg>.size)!.assumingMemoryBound(to: tcmsg.self)
                    message.pointee.tcm_family = UInt8(AF_UNSPEC)
                    message.pointee.tcm_ifindex = Int32(ifindex)
                    message.pointee.tcm_parent = 0xffff_fff1 & 0xffff_0000 | minor  // TC_H_CLSACT major
                },
                handle: { header in
                    guard header.pointee.nlmsg_type == UInt16(RTM_NEWTFILTER) else { return }
                    let message = mnl_nlmsg_get_payload(header)!.assumingMemoryBound(to: tcmsg.self)
                    // Handle 0 is the classifier's own record, not a filter.
                    if message.pointee.tcm_handle != 0 { filters += 1 }
                })
        }
        return filters
    }
}
