import PodwallCore
import Testing

@Suite struct CaptureFilterTests {
    let pod = IPAddress("10.0.0.5")!, remote = IPAddress("192.0.2.9")!

    @Test func emptyFilterMatchesEverything() {
        #expect(CaptureFilter().matches(ifindex: 3, proto: .udp, pod: pod, podPort: 1, remote: remote, remotePort: 2))
        #expect(CaptureFilter().summary == "any interface")
    }

    @Test func aFlowFilterMatchesOnlyThatFlow() {
        let key = FlowKey(ifindex: 3, proto: .tcp, pod: pod, podPort: 40000, remote: remote, remotePort: 80)
        let filter = CaptureFilter(flow: key, interfaceName: "veth1")
        #expect(filter.matches(ifindex: 3, proto: .tcp, pod: pod, podPort: 40000, remote: remote, remotePort: 80))
        #expect(!filter.matches(ifindex: 4, proto: .tcp, pod: pod, podPort: 40000, remote: remote, remotePort: 80))
        #expect(!filter.matches(ifindex: 3, proto: .udp, pod: pod, podPort: 40000, remote: remote, remotePort: 80))
        #expect(!filter.matches(ifindex: 3, proto: .tcp, pod: pod, podPort: 40001, remote: remote, remotePort: 80))
        #expect(filter.summary == "veth1 tcp pod 10.0.0.5:40000 remote 192.0.2.9:80")
    }

    @Test func prefixesAndPortsNarrow() {
        let filter = CaptureFilter(remote: IPPrefix("192.0.2.0/24"), remotePort: 53, proto: .udp)
        #expect(filter.matches(ifindex: 1, proto: .udp, pod: pod, podPort: 9, remote: remote, remotePort: 53))
        #expect(!filter.matches(ifindex: 1, proto: .udp, pod: pod, podPort: 9, remote: IPAddress("198.51.100.1")!, remotePort: 53))
        #expect(
            !filter.matches(ifindex: 1, proto: .udp, pod: pod, podPort: 9, remote: remote, remotePort: 0),
            "a packet without ports never matches a port filter")
        #expect(filter.summary == "any interface udp remote 192.0.2.0/24:53")
    }
}
