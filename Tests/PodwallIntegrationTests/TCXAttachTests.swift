import Foundation
import PodwallBenchBPFObjects
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// How the programs sit on pod veths: TCX links on this kernel (>= 6.6),
/// pinned, first in line, without a qdisc; and the move from an older
/// agent's clsact filters.
@Suite(.serialized, .enabled(if: Privileged.enabled, Privileged.reason))
struct TCXAttachTests {
    @Test func podwallRunsFirstThroughTCXAndLeavesOtherProgramsAlone() throws {
        let env = try AgentLab(pods: 2)
        let veth = env.lab.pods[0].hostInterface
        let index = try env.ifindex(of: veth)
        // Another tool's TCX program on the veth before podwall starts (its
        // link pinned apart from podwall's pins, as that tool would).
        let otherPins = env.lab.pinRoot + "/other-tool"
        try FileManager.default.createDirectory(atPath: otherPins, withIntermediateDirectories: true)
        let otherObject = try BPFObject(image: .baseline, pinRoot: nil)
        try NetworkNamespace.run(env.lab.nodeNamespace) {
            try TCXLinks.attach(
                try otherObject.program(named: "empty_tc"), ifindex: index, interface: veth, hook: .ingress, pinRoot: otherPins)
        }
        let otherID = try #require(programsOnIngress(env, index).first)

        try env.startAgent()
        #expect(env.log.contains("attach=tcx"), "log:\n\(env.log)")
        let programs = try programsOnIngress(env, index)
        #expect(programs.count == 2 && programs.last == otherID, "podwall's program runs first: \(programs)")
        #expect(programs.first == (try env.attachedPrograms(veth)).first ?? nil)
        for pod in env.lab.pods {
            let qdiscs = try env.lab.inNode(["tc", "qdisc", "show", "dev", pod.hostInterface]).output
            #expect(!qdiscs.contains("clsact"), "TCX needs no qdisc: \(qdiscs)")
        }
        let status = try env.podwall(["status"]).output
        #expect(status.contains("tcx") && !status.contains("NOT FIRST"), "\(status)")
        // A program put in front of podwall's later is shown, as it may let packets by.
        try NetworkNamespace.run(env.lab.nodeNamespace) {
            try TCXLinks.attach(
                try otherObject.program(named: "empty_tc"), ifindex: index, interface: veth, hook: .egress, pinRoot: otherPins)
        }
        #expect(try env.podwall(["status"]).output.contains("NOT FIRST"))
        // The agent says so too, within a sweep interval (5 s by default).
        let warned = waitUntil(timeout: 12) { env.log.contains("another TCX program runs before podwall's") }
        #expect(warned != nil && env.log.contains("hook=egress") && env.log.contains("program=empty_tc"), "log:\n\(env.log)")

        env.stopAgent()
        #expect(try programsOnIngress(env, index).count == 2, "the links outlive the agent")
        _ = try env.podwall(["uninstall"])
        #expect(try programsOnIngress(env, index) == [otherID], "only podwall's link goes")
        #expect(try env.attachedPrograms(veth) == [nil, nil], "the other tool's programs are not taken for podwall's")
        TCXLinks.detachAll(under: otherPins)
    }

    @Test func anAgentUpgradedFromClsactMovesToTCXWithoutLosingCount() throws {
        let env = try AgentLab(pods: 2)
        let client = env.lab.pods[0]
        let flow = try CountedUDPFlow(env, port: 7200, sourcePort: 7300)
        let index = try env.ifindex(of: client.hostInterface)

        // An agent from before TCX: a clsact qdisc and filters.
        try env.startAgent(extraArguments: ["--set", "tc_attach=clsact"])
        #expect(try filterProgram(env, index) != nil)
        try flow.send(10)
        #expect(try flow.packets() == 10)
        env.stopAgent()

        try env.startAgent()
        #expect(env.log.contains("attach=tcx"), "log:\n\(env.log)")
        #expect(try filterProgram(env, index) == nil, "the old filters are gone")
        #expect(
            !(try env.lab.inNode(["tc", "qdisc", "show", "dev", client.hostInterface]).output.contains("clsact")),
            "and the qdisc podwall had created")
        #expect(try programsOnIngress(env, index).count == 1)
        try flow.send(10)
        #expect(try flow.packets() == 20, "each packet counted once, into the same flow")
        #expect(flow.received() == 20)
    }

    @Test func aRemovedInterfaceTakesItsLinksAlong() throws {
        let env = try AgentLab(pods: 1)
        try env.startAgent()
        let pod = try env.lab.addPod()
        let index = try env.ifindex(of: pod.hostInterface)
        let pins = ["ingress", "egress"].map { env.lab.pinRoot + "/link_tcx_\(index)_\($0)" }
        let attached = waitUntil(timeout: 5) { pins.allSatisfy { FileManager.default.fileExists(atPath: $0) } }
        try #require(attached != nil, "no TCX pins for the new veth; log:\n\(env.log)")

        try env.lab.inNode(["ip", "link", "del", pod.hostInterface])
        let forgotten = waitUntil(timeout: 5) { pins.allSatisfy { !FileManager.default.fileExists(atPath: $0) } }
        #expect(forgotten != nil, "the pins of a deleted veth must go; log:\n\(env.log)")
    }

    @Test func linksOfInterfacesDeletedWhileTheAgentWasDownAreRemovedAtStart() throws {
        let env = try AgentLab(pods: 2)
        try env.startAgent()
        let gone = env.lab.pods[1].hostInterface
        let index = try env.ifindex(of: gone)
        let pins = ["ingress", "egress"].map { env.lab.pinRoot + "/link_tcx_\(index)_\($0)" }
        #expect(pins.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        env.stopAgent()

        try env.lab.inNode(["ip", "link", "del", gone])
        try env.startAgent(interfaces: 1)
        #expect(pins.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "log:\n\(env.log)")
        #expect(!env.attachedIfindexes().contains(index))
        #expect(env.log.contains("forgot interfaces that went away while the agent was down"), "log:\n\(env.log)")
    }

    private func programsOnIngress(_ env: AgentLab, _ index: UInt32) throws -> [UInt32] {
        try NetworkNamespace.run(env.lab.nodeNamespace) { TCXLinks.programIDs(ifindex: index, hook: .ingress) }
    }

    private func filterProgram(_ env: AgentLab, _ index: UInt32) throws -> UInt32? {
        try NetworkNamespace.run(env.lab.nodeNamespace) { TrafficControl.attachedProgramID(ifindex: index, hook: .ingress) }
    }
}
