import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import PodwallCore
import PodwallKernel
import Synchronization

/// Names the pod behind a host veth: the veth's peer namespace, then a
/// process in it, its cgroup's pod UID and the kubelet's name for that UID
/// ("namespace/name"); without a kubelet, "pod-<UID>"; for a namespace with
/// no pod process, its name in /run/netns (a lab's pods, a CNI's sandbox).
/// Names are resolved in the background, at once for a new interface, and
/// cached per interface; a miss is retried every few seconds (a CNI creates
/// the veth before the pod starts).
final class PodIdentities: Sendable {
    private let procRoot: String
    private let kubelet: KubeletSettings
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var links: [UInt32: NetworkLink] = [:]
        var names: [UInt32: String] = [:]
        var kubeletNames: [String: String] = [:]
        var kubeletFetched = Date.distantPast
        /// An interface tracked since the last look: looked at within 0.1 s,
        /// as its pod's first alerts need its name.
        var newLinks = false
    }

    init(procRoot: String, kubelet: KubeletSettings, logger: Logger) {
        self.procRoot = procRoot
        self.kubelet = kubelet
        self.logger = logger
    }

    func track(_ link: NetworkLink) {
        state.withLock {
            $0.links[link.index] = link
            $0.newLinks = true
        }
    }

    func forget(_ ifindex: UInt32) {
        state.withLock {
            $0.links.removeValue(forKey: ifindex)
            $0.names.removeValue(forKey: ifindex)
        }
    }

    /// The pod's name if it is known by now (alerts read this).
    func name(_ ifindex: UInt32) -> String? {
        state.withLock { $0.names[ifindex] }
    }

    /// The tracked pod interface whose peer is the namespace with this nsid.
    func interface(peerNamespaceID id: Int32) -> UInt32? {
        state.withLock { $0.links.values.first { $0.peerNamespaceID == id }?.index }
    }

    /// Resolves interfaces still unnamed, every `interval`, until cancelled.
    /// Walking /proc and asking the kernel for namespace ids blocks, so it
    /// runs on a dispatch queue, never on the tasks that consume events.
    func run(interval: Duration = .seconds(2)) async throws {
        while !Task.isCancelled {
            let pending = state.withLock { state in
                state.newLinks = false
                return state.links.values.filter { state.names[$0.index] == nil }
            }
            if !pending.isEmpty {
                for (link, identity) in await Self.namespaces(of: pending, procRoot: procRoot) {
                    let name: String
                    switch identity {
                    case .pod(let uid): name = await kubeletName(uid) ?? "pod-\(uid)"
                    case .namespace(let namespace): name = namespace
                    }
                    state.withLock { if $0.links[link.index] != nil { $0.names[link.index] = name } }
                }
            }
            let next = ContinuousClock.now + interval
            while ContinuousClock.now < next, !state.withLock({ $0.newLinks }) {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    enum Identity {
        case pod(uid: String)
        case namespace(String)
    }

    /// For each link, the pod UID of a process in its peer namespace, or the namespace's name.
    static func namespaces(of links: [NetworkLink], procRoot: String) async -> [(NetworkLink, Identity)] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                let candidates = NetworkNamespaces.candidates(procRoot: procRoot)
                let byID = Dictionary(
                    candidates.compactMap { candidate in NetworkNamespaces.id(of: candidate.path).map { ($0, candidate) } },
                    uniquingKeysWith: { first, _ in first })
                let found: [(NetworkLink, Identity)] = links.compactMap { link in
                    guard let peer = link.peerNamespaceID, let namespace = byID[peer] else { return nil }
                    let uid = namespace.pids.lazy.compactMap { pid in
                        (try? String(contentsOfFile: "\(procRoot)/\(pid)/cgroup", encoding: .utf8)).flatMap(PodCgroup.podUID)
                    }.first
                    if let uid { return (link, .pod(uid: uid)) }
                    return namespace.name.map { (link, .namespace($0)) }
                }
                continuation.resume(returning: found)
            }
        }
    }

    /// From the kubelet's pod list, fetched again on a miss at most every 10 s.
    private func kubeletName(_ uid: String) async -> String? {
        guard let podsURL = kubelet.podsURL else { return nil }
        let (known, stale) = state.withLock { ($0.kubeletNames[uid], Date().timeIntervalSince($0.kubeletFetched) > 10) }
        if let known { return known }
        guard stale else { return nil }
        state.withLock { $0.kubeletFetched = Date() }
        do {
            let fetched = try await fetchPods(kubelet)
            state.withLock { $0.kubeletNames = fetched }
            return fetched[uid]
        } catch {
            logger.warning("kubelet pod list unavailable (\(podsURL)): \(error); pods are named by UID")
            return nil
        }
    }

    private func fetchPods(_ kubelet: KubeletSettings) async throws -> [String: String] {
        var tls = TLSConfiguration.makeClientConfiguration()
        if kubelet.insecureSkipTLSVerify { tls.certificateVerification = .none }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let names = try await fetchPods(kubelet, with: client)
            try await client.shutdown()
            return names
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func fetchPods(_ kubelet: KubeletSettings, with client: HTTPClient) async throws -> [String: String] {
        var request = HTTPClientRequest(url: kubelet.podsURL ?? "")
        if let tokenFile = kubelet.tokenFile, let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) {
            request.headers.add(name: "Authorization", value: "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let response = try await client.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok, let names = KubeletPods.names(podListJSON: String(buffer: body)) else {
            throw ConfigError("HTTP \(response.status.code), or not a pod list")
        }
        return names
    }
}
