import PodwallCore
import Testing

@Suite struct PodIdentityTests {
    static let uid = "0b3c1234-5678-4abc-9def-0123456789ab"

    @Test(arguments: [
        "0::/kubepods/burstable/pod0b3c1234-5678-4abc-9def-0123456789ab/4f1c0e2d",
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b3c1234_5678_4abc_9def_0123456789ab.slice/cri-containerd-4f1c.scope",
        "12:memory:/kubepods/besteffort/pod0B3C1234-5678-4ABC-9DEF-0123456789AB/x\n0::/system.slice",
        "0::/kubepods.slice/kubepods-pod0b3c1234_5678_4abc_9def_0123456789ab.slice/cri-containerd-1.scope"
    ])
    func podUIDsFromBothCgroupDrivers(cgroup: String) {
        #expect(PodCgroup.podUID(cgroupFile: cgroup) == Self.uid)
    }

    @Test(arguments: ["0::/system.slice/containerd.service", "0::/kubepods/burstable/podnotauid/x", "", "0::/user.slice/pod1234"])
    func otherProcessesHaveNone(cgroup: String) {
        #expect(PodCgroup.podUID(cgroupFile: cgroup) == nil)
    }

    @Test func kubeletPodListNamesPods() {
        let json = """
            {"kind":"PodList","items":[
              {"metadata":{"name":"web-7d9f","namespace":"shop","uid":"\(Self.uid)"}},
              {"metadata":{"name":"lonely","uid":"11111111-2222-3333-4444-555555555555"}},
              {"metadata":{"namespace":"x"}}]}
            """
        #expect(
            KubeletPods.names(podListJSON: json) == [Self.uid: "shop/web-7d9f", "11111111-2222-3333-4444-555555555555": "default/lonely"])
        #expect(KubeletPods.names(podListJSON: "not json") == nil)
    }
}
