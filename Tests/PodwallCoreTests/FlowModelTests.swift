import PodwallCore
import Testing

@Suite struct InterfacePatternTests {
    @Test(arguments: [
        ("veth*", "veth1234abcd", true), ("veth*", "eth0", false), ("lxc*", "lxc_health", true),
        ("cali?", "cali1", true), ("cali?", "cali12", false), ("veth-pod[0-9]", "veth-pod7", true),
        ("veth-pod[0-9]", "veth-podx", false), ("*", "anything", true), ("eni*", "eni", true)
    ])
    func globMatching(pattern: String, name: String, matches: Bool) {
        #expect(InterfacePattern(pattern).matches(name) == matches)
    }

    @Test func defaultsCoverCommonCNIsButNotBridges() {
        for name in ["veth9f3a2b1", "lxc8a7b6c5", "cali12ab34cd", "eni3f2e1d0", "gke1a2b3c"] {
            #expect(InterfacePattern.matchesAny(InterfacePattern.defaults, name), "\(name)")
        }
        for name in ["cni0", "docker0", "eth0", "lo", "cilium_host"] {
            #expect(!InterfacePattern.matchesAny(InterfacePattern.defaults, name), "\(name)")
        }
    }
}

@Suite struct FlowFormatterTests {
    static let flow = FlowRecord(
        key: FlowKey(
            ifindex: 7, proto: .tcp, pod: IPAddress("198.18.0.11")!, podPort: 40000,
            remote: IPAddress("fd00::2")!, remotePort: 80),
        firstSeen: 1_000_000_000, lastSeen: 2_500_000_000, podInitiated: true,
        fromPod: FlowCounters(packets: 3, bytes: 300, tcpFlags: [.syn, .ack, .psh]),
        toPod: FlowCounters(packets: 2, bytes: 120, tcpFlags: [.syn, .ack]))

    @Test func jsonLineHasEveryField() {
        let formatter = FlowFormatter(interfaceNames: [7: "veth-pod1"], wallClockOffset: 1_700_000_000_000_000_000)
        let line = formatter.json(Self.flow)
        #expect(
            line
                == #"{"interface":"veth-pod1","ifindex":7,"proto":"tcp","family":"ipv4","pod":"198.18.0.11","pod_port":40000,"remote":"fd00::2","remote_port":80,"initiator":"pod","first_seen":"2023-11-14T22:13:21.000000Z","last_seen":"2023-11-14T22:13:22.500000Z","first_seen_ns":1000000000,"last_seen_ns":2500000000,"from_pod":{"packets":3,"bytes":300,"tcp_flags":"SP."},"to_pod":{"packets":2,"bytes":120,"tcp_flags":"S."}}"#
        )
    }

    @Test func tableNamesUnknownInterfacesByIndex() {
        let table = FlowFormatter(interfaceNames: [:], wallClockOffset: 0).table([Self.flow])
        #expect(table.contains("if7"))
        #expect(table.contains("198.18.0.11:40000"))
        #expect(table.contains("[fd00::2]:80"))
    }

    @Test func aRunningAgentsPodNamesAddAColumnAndAField() {
        let formatter = FlowFormatter(interfaceNames: [7: "veth-pod1"], wallClockOffset: 0, podNames: [7: "shop/web-7d9f"])
        #expect(formatter.table([Self.flow]).hasPrefix("INTERFACE  POD NAME       PROTO"))
        #expect(formatter.json(Self.flow).hasPrefix(#"{"interface":"veth-pod1","ifindex":7,"pod_name":"shop/web-7d9f","proto""#))
    }

    @Test func theProcessThatOpenedAFlowAddsAColumnAndAnObject() {
        var process = AlertProcess(pid: 1234, tgid: 1234, uid: 0, comm: "nc", cgroupId: 9, cgroupPath: "/kubepods/x")
        process.execId = "node-1:1234-55"
        process.binary = "/usr/bin/nc"
        process.arguments = ["nc", "10.0.0.2", "443"]
        process.ancestors = ["sh", "containerd-shim"]
        let other = FlowRecord(
            key: FlowKey(
                ifindex: 7, proto: .udp, pod: IPAddress("198.18.0.11")!, podPort: 53, remote: IPAddress("198.18.0.12")!, remotePort: 5353),
            firstSeen: 1, lastSeen: 2, podInitiated: false, fromPod: FlowCounters(packets: 1, bytes: 60),
            toPod: FlowCounters(packets: 1, bytes: 60))
        let formatter = FlowFormatter(interfaceNames: [7: "veth-pod1"], wallClockOffset: 0, processes: [Self.flow.key: process])
        let table = formatter.table([Self.flow, other]).split(separator: "\n").map { $0.split(separator: " ") }
        #expect(table.map { $0[1] } == ["PROCESS", "nc[1234]<-sh", "-"])
        #expect(
            formatter.json(Self.flow).contains(
                #""initiator":"pod","process":{"pid":1234,"tgid":1234,"uid":0,"comm":"nc","cgroup_id":9,"cgroup_path":"/kubepods/x","exec_id":"node-1:1234-55","binary":"/usr/bin/nc","arguments":["nc","10.0.0.2","443"],"ancestors":["sh","containerd-shim"]},"first_seen""#
            ))
        #expect(!formatter.json(other).contains("process"))
        #expect(!FlowFormatter(interfaceNames: [:], wallClockOffset: 0).table([Self.flow]).contains("PROCESS"))
    }

    @Test func jsonEscapesControlCharacters() {
        var line = JSONLine()
        line.field("name", "a\"b\\c\n\u{1}")
        #expect(line.rendered == #"{"name":"a\"b\\c\n\u0001"}"#)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (Int64(951_782_400_123_456_789), "2000-02-29T00:00:00.123456Z"),
        (Int64(-1_000), "1969-12-31T23:59:59.999999Z")
    ])
    func rfc3339(nanoseconds: Int64, text: String) {
        #expect(Timestamp.rfc3339(nanoseconds: nanoseconds) == text)
    }
}
