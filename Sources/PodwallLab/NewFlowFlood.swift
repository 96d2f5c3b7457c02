import Foundation

extension Lab {
    /// New UDP flows from `pod`, `perSecond` of them to one port of
    /// `address`, each datagram from the next source port (1024-65535, so a
    /// port comes back after 13 s at 5,000 a second): a flood of new flows of
    /// another kind, the cover a scanning pod may hide in. Paced by the clock
    /// in batches of 50 (hping3 -i u200 managed about 2,000 a second here,
    /// its sleeps being longer than asked). Runs until stopped or the lab goes.
    @discardableResult
    public func spawnNewFlowFlood(from pod: Pod, to address: String, port: UInt16, perSecond: Int = 5000) throws -> Process {
        try spawnInPod(
            pod,
            [
                "python3", "-c",
                """
                import socket, time
                target, rate, port, sent = ("\(address)", \(port)), \(perSecond), 1024, 0
                start = time.monotonic()
                while True:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    try:
                        s.bind(("", port))
                        s.sendto(b"podwall-flood", target)
                    except OSError:
                        pass
                    s.close()
                    port, sent = (port + 1 if port < 65535 else 1024), sent + 1
                    if sent % 50 == 0:
                        ahead = sent / rate - (time.monotonic() - start)
                        if ahead > 0:
                            time.sleep(ahead)
                """
            ])
    }
}
