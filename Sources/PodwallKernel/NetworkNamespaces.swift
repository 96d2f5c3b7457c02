import CPodwallShim
import Foundation
import Glibc

/// The network namespaces of this node, for naming the pod behind a host
/// veth: the veth's peer namespace is known by its nsid (IFLA_LINK_NETNSID),
/// and a namespace file's nsid is asked of the kernel (RTM_GETNSID).
public enum NetworkNamespaces {
    /// A network namespace found on the node: by its bind mount in
    /// /run/netns (CNI plugins and `ip netns` name them there) and/or by a
    /// process inside it.
    public struct Candidate: Sendable, Equatable {
        public var path: String
        public var name: String?
        /// Processes in it (a pod's pause container and its containers).
        public var pids: [Int32]
    }

    // linux/net_namespace.h and rtnetlink.h, spelled here because the shim
    // imports neither.
    static let getNamespaceID: UInt16 = 90  // RTM_GETNSID
    static let attributeNamespaceID: UInt16 = 1  // NETNSA_NSID
    static let attributeFD: UInt16 = 3  // NETNSA_FD

    /// The nsid this namespace has for the namespace at `path`; nil when it
    /// has none (no link between the two) or the file cannot be opened.
    public static func id(of path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var id: Int32?
        try? NetlinkSocket().request(
            type: getNamespaceID,
            fill: { header in
                let message = mnl_nlmsg_put_extra_header(header, MemoryLayout<rtgenmsg>.size)!.assumingMemoryBound(to: rtgenmsg.self)
                message.pointee.rtgen_family = UInt8(AF_UNSPEC)
                mnl_attr_put_u32(header, attributeFD, UInt32(fd))
            },
            handle: { header in
                withUnsafeMutablePointer(to: &id) { context in
                    _ = mnl_attr_parse(
                        header, UInt32(MemoryLayout<rtgenmsg>.size),
                        { attribute, context in
                            guard let attribute, let context else { return MNL_CB_OK }
                            if mnl_attr_get_type(attribute) == NetworkNamespaces.attributeNamespaceID {
                                context.assumingMemoryBound(to: Int32?.self).pointee = Int32(bitPattern: mnl_attr_get_u32(attribute))
                            }
                            return MNL_CB_OK
                        }, context)
                }
            })
        return id.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Every namespace under `namedDirectory` and every one a process under
    /// `procRoot` is in, once each (by inode), with its name and processes where known.
    public static func candidates(procRoot: String = "/proc", namedDirectory: String = "/run/netns") -> [Candidate] {
        var byInode: [UInt64: Candidate] = [:]
        let files = FileManager.default
        for name in (try? files.contentsOfDirectory(atPath: namedDirectory)) ?? [] {
            let path = namedDirectory + "/" + name
            if let inode = inode(path) { byInode[inode] = Candidate(path: path, name: name, pids: []) }
        }
        for entry in (try? files.contentsOfDirectory(atPath: procRoot)) ?? [] {
            guard let pid = Int32(entry) else { continue }
            let path = "\(procRoot)/\(pid)/ns/net"
            guard let inode = inode(path) else { continue }
            byInode[inode, default: Candidate(path: path, name: nil, pids: [])].pids.append(pid)
        }
        return Array(byInode.values)
    }

    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }
}
