import CPodwallShim
import Glibc

public struct NetworkLink: Hashable, Sendable {
    public let index: UInt32
    public let name: String
    /// For a veth: the nsid of the namespace its peer is in (the pod's).
    public let peerNamespaceID: Int32?

    public init(index: UInt32, name: String, peerNamespaceID: Int32? = nil) {
        self.index = index
        self.name = name
        self.peerNamespaceID = peerNamespaceID
    }
}

public enum LinkEvent: Hashable, Sendable {
    /// The link exists (at start, on creation, or on any change such as up/down).
    case present(NetworkLink)
    case removed(NetworkLink)
    /// Every link present at start has been reported.
    case synchronized
}

/// Watches rtnetlink for links appearing and going, in this thread's
/// network namespace. It subscribes before it lists the present links, so a
/// link created in between is reported rather than missed; a duplicate
/// `.present` is harmless to consumers that attach idempotently.
public final class LinkWatcher: Sendable {
    private let socket: NetlinkSocket
    private let stopFlag = AtomicFlag()

    public init() throws {
        socket = try NetlinkSocket(groups: UInt32(RTMGRP_LINK))
        socket.setReceiveTimeout(milliseconds: 200)
    }

    /// Every link now in the namespace.
    public static func currentLinks() throws -> [NetworkLink] {
        var links: [NetworkLink] = []
        try NetlinkSocket().dump(
            type: UInt16(RTM_GETLINK),
            fill: { header in
                let info = mnl_nlmsg_put_extra_header(header, MemoryLayout<ifinfomsg>.size)!.assumingMemoryBound(to: ifinfomsg.self)
                info.pointee.ifi_family = UInt8(AF_UNSPEC)
            },
            handle: { header in
                if let (kind, link) = parseLink(header), kind == .present(link) { links.append(link) }
            })
        return links
    }

    /// Interface names by index, in this thread's network namespace.
    public static func namesByIndex() throws -> [UInt32: String] {
        Dictionary(try currentLinks().map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// Present links first, then changes as they happen, until the stream's
    /// consumer goes away or `stop()` is called.
    public func events() -> AsyncStream<LinkEvent> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let thread = Thread { [socket, stopFlag] in
                do {
                    for link in try Self.currentLinks() { continuation.yield(.present(link)) }
                    continuation.yield(.synchronized)
                    while !stopFlag.isSet {
                        do {
                            _ = try socket.receiveOnce { header in
                                if let (event, _) = Self.parseLink(header) { continuation.yield(event) }
                            }
                        } catch let error as KernelError where error.errno == ENOBUFS {
                            // Notifications were lost: list again so nothing is missed.
                            for link in try Self.currentLinks() { continuation.yield(.present(link)) }
                        }
                    }
                } catch {
                    FileHandleLog.error("link watcher stopped: \(error)")
                }
                continuation.finish()
            }
            continuation.onTermination = { [stopFlag] _ in stopFlag.set() }
            thread.start()
        }
    }

    public func stop() {
        stopFlag.set()
    }

    private static func parseLink(_ header: UnsafePointer<nlmsghdr>) -> (LinkEvent, NetworkLink)? {
        let type = header.pointee.nlmsg_type
        guard type == UInt16(RTM_NEWLINK) || type == UInt16(RTM_DELLINK) else { return nil }
        let info = mnl_nlmsg_get_payload(header)!.assumingMemoryBound(to: ifinfomsg.self)
        var attributes: (name: String?, peerNamespace: Int32?) = (nil, nil)
        withUnsafeMutablePointer(to: &attributes) { context in
            _ = mnl_attr_parse(
                header, UInt32(MemoryLayout<ifinfomsg>.size),
                { attribute, context in
                    guard let attribute, let context else { return MNL_CB_OK }
                    let found = context.assumingMemoryBound(to: (name: String?, peerNamespace: Int32?).self)
                    switch mnl_attr_get_type(attribute) {
                    case UInt16(IFLA_IFNAME):
                        if let text = mnl_attr_get_str(attribute) { found.pointee.name = String(cString: text) }
                    case UInt16(IFLA_LINK_NETNSID):
                        found.pointee.peerNamespace = Int32(bitPattern: mnl_attr_get_u32(attribute))
                    default:
                        break
                    }
                    return MNL_CB_OK
                }, context)
        }
        guard let name = attributes.name else { return nil }
        let link = NetworkLink(index: UInt32(info.pointee.ifi_index), name: name, peerNamespaceID: attributes.peerNamespace)
        return (type == UInt16(RTM_NEWLINK) ? .present(link) : .removed(link), link)
    }
}

import Foundation
import Synchronization

/// A flag set once from any thread.
final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// Last-resort reporting from background threads that have no logger.
enum FileHandleLog {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("podwall: " + message + "\n").utf8))
    }
}
