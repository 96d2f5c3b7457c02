import PodwallKernel
import Testing
@testable import PodwallAgent

@Suite struct TCOrderWatchTests {
    @Test func eachHookIsReportedOnceWhenPodwallFallsBehindAndOnceWhenItIsFirstAgain() {
        var watch = TCOrderWatch()
        let egress = TCOrderWatch.Hook(ifindex: 7, hook: .egress)
        let ingress = TCOrderWatch.Hook(ifindex: 7, hook: .ingress)

        #expect(watch.update(behind: [egress]) == ([egress], []))
        #expect(watch.update(behind: [egress]) == ([], []), "no repeat while nothing changes")
        #expect(watch.update(behind: [egress, ingress]) == ([ingress], []))
        #expect(watch.update(behind: [ingress]) == ([], [egress]))
        #expect(watch.behind == [ingress])
    }
}
