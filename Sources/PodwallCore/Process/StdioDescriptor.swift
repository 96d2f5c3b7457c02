/// What one of a process's fds 0-2 was when it exec'd: where a reverse
/// shell shows itself (a socket, or a pipe or pty whose other end is one).
public enum StdioDescriptor: Hashable, Sendable, CustomStringConvertible {
    case none
    case file
    case pipe(inode: UInt64)
    case terminal
    case characterDevice
    case inetSocket(InetSocket)
    /// `peerInode`: the other end of a socketpair or connection (0 if none).
    case unixSocket(inode: UInt64, peerInode: UInt64)
    case otherSocket(family: UInt8)
    case other

    public struct InetSocket: Hashable, Sendable {
        public var proto: IPProtocol
        public var local: IPAddress
        public var localPort: UInt16
        public var remote: IPAddress
        public var remotePort: UInt16
        public var inode: UInt64

        public init(proto: IPProtocol, local: IPAddress, localPort: UInt16, remote: IPAddress, remotePort: UInt16, inode: UInt64) {
            self.proto = proto
            self.local = local
            self.localPort = localPort
            self.remote = remote
            self.remotePort = remotePort
            self.inode = inode
        }

        /// Connected (or accepted): it has a remote end.
        public var isConnected: Bool { remotePort != 0 }
    }

    public var inetSocket: InetSocket? {
        if case .inetSocket(let socket) = self { socket } else { nil }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .file: "file"
        case .pipe(let inode): "pipe:[\(inode)]"
        case .terminal: "tty"
        case .characterDevice: "chardev"
        case .inetSocket(let s):
            "\(s.proto) \(FlowFormatter.endpoint(s.local, s.localPort, s.proto))->\(FlowFormatter.endpoint(s.remote, s.remotePort, s.proto))"
        case .unixSocket(let inode, let peer): "unix:[\(inode)] peer \(peer)"
        case .otherSocket(let family): "socket family \(family)"
        case .other: "other"
        }
    }
}
