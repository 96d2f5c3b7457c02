import Foundation
import PodwallCapture
import PodwallCore
import PodwallKernel
import PodwallLab
import PodwallTestSupport
import Testing

/// `podwall capture` and alert captures against real traffic, checked
/// against tcpdump on the same veth and read back with tcpdump and tshark.
@Suite(
    .serialized, .enabled(if: Privileged.enabled, Privileged.reason),
    .enabled(if: KernelFeatures.probe().capture, "in-kernel capture needs Linux >= 5.12; this kernel loads the compat data path"))
struct CaptureTests {
    /// `podwall pcap` reads files only: no pin root, no namespace.
    @discardableResult
    static func pcap(_ env: AgentLab, _ arguments: [String]) throws -> Shell.Result {
        try Shell.run([env.binary, "pcap"] + arguments)
    }

    /// "N packets ... M matched, K past the budget or expiry, L lost" from the final report.
    static func report(_ log: String) -> (written: Int, matched: Int, skipped: Int, lost: Int)? {
        let numbers = AgentLab.text(log).split(separator: "\n").last { $0.contains("written to") }?
            .split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard let numbers, numbers.count >= 5 else { return nil }
        // written, bytes, [digits in the file name...], matched, skipped, lost
        return (numbers[0], numbers[numbers.count - 3], numbers[numbers.count - 2], numbers[numbers.count - 1])
    }

    static func opensInTcpdumpAndTshark(_ file: String, packets: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tcpdump = try Shell.run(["tcpdump", "-nn", "-r", file], check: false)
        #expect(tcpdump.status == 0, "tcpdump -r \(file): \(tcpdump.error)", sourceLocation: sourceLocation)
        #expect(tcpdump.output.split(separator: "\n").count == packets, sourceLocation: sourceLocation)
        if Shell.isInstalled("tshark") {
            let tshark = try Shell.run(["tshark", "-n", "-r", file], check: false)
            #expect(tshark.status == 0, "tshark -r \(file): \(tshark.error)", sourceLocation: sourceLocation)
            #expect(tshark.output.split(separator: "\n").count == packets, sourceLocation: sourceLocation)
        }
    }

    @Test(.enabled(if: Shell.isInstalled("tcpdump") && Shell.isInstalled("nc"), "needs tcpdump and nc"))
    func aCaptureMatchesTcpdumpOnTheSameVethPacketForPacket() throws {
        let env = try AgentLab(pods: 2)
        try env.startAgent()
        let (client, server) = (env.lab.pods[0], env.lab.pods[1])
        let (ours, reference) = ("/tmp/\(env.lab.id)-ours.pcap", "/tmp/\(env.lab.id)-ref.pcap")
        defer { for file in [ours, reference] { try? FileManager.default.removeItem(atPath: file) } }
        let (tcpdumpLog, log) = ("/tmp/\(env.lab.id)-tcpdump.log", "/tmp/\(env.lab.id)-capture.log")
        defer { for file in [tcpdumpLog, log] { try? FileManager.default.removeItem(atPath: file) } }
        let tcpdump = try env.lab.spawn(
            env.lab.nodeCommand(
                [
                    "tcpdump", "-i", client.hostInterface, "-s", "256", "-U", "--time-stamp-precision", "nano", "-w", reference,
                    "tcp", "port", "8080"
                ]), logFile: tcpdumpLog)
        _ = waitUntil(timeout: 5) { AgentLab.text(tcpdumpLog).contains("listening") }
        let capture = try env.startCapture(
            [
                "--interface", client.hostInterface, "--proto", "tcp", "--port", "8080",
                "--snaplen", "256", "-o", ours
            ], log: log)
        try env.lab.spawnInPod(server, ["sh", "-c", "head -c 300000 /dev/urandom | nc -l -p 8080 -q 1"])
        usleep(300_000)
        try env.lab.inPod(client, ["sh", "-c", "printf 'hello' | nc -w 3 \(server.ipv4) 8080 > /dev/null"], check: false)
        usleep(500_000)
        AgentLab.stop(capture)
        AgentLab.stop(tcpdump)

        let mine = try PcapContents(path: ours), theirs = try PcapContents(path: reference)
        #expect(mine.nanosecondTimestamps)
        #expect(mine.packets.count > 20, "a 300 kB transfer is more than a handful of packets")
        // Each direction in order; between directions the two taps may interleave differently.
        for fromClient in [true, false] {
            let source = Array(IPAddress(fromClient ? client.ipv4 : server.ipv4)!.bytes.suffix(4))
            let pick = { (packets: [PcapContents.Packet]) in packets.filter { Array($0.data[26..<30]) == source } }
            let (a, b) = (pick(mine.packets), pick(theirs.packets))
            #expect(a.count == b.count, "direction from \(fromClient ? "client" : "server"): \(a.count) vs tcpdump's \(b.count)")
            #expect(a.map(\.data) == b.map(\.data), "the same bytes within snaplen")
            #expect(a.map(\.originalLength) == b.map(\.originalLength))
            for (x, y) in zip(a, b) { #expect(abs(x.unixNanoseconds - y.unixNanoseconds) < 50_000_000) }
        }
        let times = mine.packets.map(\.unixNanoseconds)
        #expect(times == times.sorted(), "timestamps never go back")
        #expect(times.contains { $0 % 1000 != 0 }, "nanosecond, not microsecond, resolution")
        try Self.opensInTcpdumpAndTshark(ours, packets: mine.packets.count)
        let report = try #require(Self.report(log), "\(AgentLab.text(log))")
        #expect(report.written == mine.packets.count && report.matched == report.written && report.lost == 0)
    }

    @Test(.enabled(if: Shell.isInstalled("hping3") && Shell.isInstalled("tcpdump"), "needs hping3 and tcpdump"))
    func underAFloodTheBudgetAndTheExpiryHoldAndTheRestIsCounted() throws {
        let env = try AgentLab(pods: 2)
        try env.startAgent()
        let (attacker, victim) = (env.lab.pods[0], env.lab.pods[1])
        let (budgetFile, expiryFile) = ("/tmp/\(env.lab.id)-budget.pcap", "/tmp/\(env.lab.id)-expiry.pcap")
        defer { for file in [budgetFile, expiryFile] { try? FileManager.default.removeItem(atPath: file) } }
        let (budgetLog, expiryLog) = ("/tmp/\(env.lab.id)-budget.log", "/tmp/\(env.lab.id)-expiry.log")
        defer { for file in [budgetLog, expiryLog] { try? FileManager.default.removeItem(atPath: file) } }
        let budget = try env.startCapture(
            [
                "--interface", attacker.hostInterface, "--proto", "udp", "--count", "100",
                "-o", budgetFile
            ], log: budgetLog)
        let expiry = try env.startCapture(
            [
                "--pod", attacker.ipv4, "--proto", "udp", "--duration", "1s",
                "-o", expiryFile
            ], log: expiryLog)
        let started = Date()
        try env.lab.inPod(
            attacker, ["timeout", "-s", "KILL", "3", "hping3", "--flood", "--udp", "-p", "9", "-d", "64", victim.ipv4],
            check: false)
        #expect(waitUntil(timeout: 5) { !budget.isRunning && !expiry.isRunning } != nil, "both captures end by themselves")
        AgentLab.stop(budget)
        AgentLab.stop(expiry)

        let budgetReport = try #require(Self.report(budgetLog), "\(AgentLab.text(budgetLog))")
        #expect(try PcapContents(path: budgetFile).packets.count == 100, "exactly the budget")
        #expect(
            budgetReport.written == 100 && budgetReport.skipped > 0, "the flood past the budget is counted: \(AgentLab.text(budgetLog))")
        #expect(budgetReport.matched == 100 + budgetReport.skipped + budgetReport.lost)
        #expect(AgentLab.text(budgetLog).contains("[budget]"))

        let expiryReport = try #require(Self.report(expiryLog), "\(AgentLab.text(expiryLog))")
        let expired = try PcapContents(path: expiryFile)
        #expect(AgentLab.text(expiryLog).contains("[expired]"))
        #expect(expiryReport.written == expired.packets.count && expiryReport.written > 100)
        #expect(expiryReport.matched == expiryReport.written + expiryReport.skipped + expiryReport.lost)
        let span = Double((expired.packets.last?.unixNanoseconds ?? 0) - Int64(started.timeIntervalSince1970 * 1e9)) / 1e9
        #expect(span < 1.5, "nothing captured after the expiry (last packet \(span) s after start)")
        try Self.opensInTcpdumpAndTshark(budgetFile, packets: 100)
    }

    @Test(.enabled(if: Shell.isInstalled("nc"), "needs nc"))
    func aProtocolAlertIsCapturedWithItsTriggerAndCanBeListedAndExported() throws {
        let env = try AgentLab(pods: 2)
        let directory = "/tmp/\(env.lab.id)-captures"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try env.startAgent(extraArguments: ["--capture-dir", directory, "--alerts", "/dev/null"])
        let (client, c2) = (env.lab.pods[0], env.lab.pods[1])
        try env.lab.spawnInPod(c2, ["sh", "-c", "nc -l -p 80 > /dev/null"])
        usleep(300_000)
        try env.lab.inPod(
            client, ["sh", "-c", "(printf 'SSH-2.0-OpenSSH_9.2\\r\\n'; sleep 1; echo more) | nc -q 1 -w 3 \(c2.ipv4) 80"],
            check: false)
        let listed = waitUntil(timeout: 5) {
            ((try? Self.pcap(env, ["list", "--json", "--capture-dir", directory]).output) ?? "").contains("\"alert_id\"")
        }
        try #require(listed != nil, "no alert capture; log:\n\(env.log)")
        let line = try Self.pcap(env, ["list", "--json", "--capture-dir", directory]).output.split(separator: "\n")[0]
        let summary = try CaptureSummary.decode(Data(line.utf8))
        #expect(summary.id.hasPrefix("pm-") && summary.filter.contains("remote \(c2.ipv4):80"), "\(summary)")
        env.stopAgent()  // flushes and closes the capture
        let exported = "/tmp/\(env.lab.id)-export.pcap"
        defer { try? FileManager.default.removeItem(atPath: exported) }
        try Self.pcap(env, ["export", summary.id, "-o", exported, "--capture-dir", directory])
        let contents = try PcapContents(path: exported)
        let first = try #require(contents.packets.first)
        #expect(String(decoding: first.data, as: UTF8.self).contains("SSH-2.0-"), "the triggering payload leads the file")
        #expect(
            contents.packets.dropFirst().contains { String(decoding: $0.data, as: UTF8.self).contains("more") },
            "what the flow sent after the alert is captured (and was dropped by the block)")
        try Self.opensInTcpdumpAndTshark(exported, packets: contents.packets.count)
        let final = try #require(CaptureStore(directory: directory).summary(summary.id))
        #expect(final.state == .finished && final.reason == "stopped" && final.packets == UInt64(contents.packets.count))
    }

    @Test(.enabled(if: Shell.isInstalled("nc"), "needs nc"))
    func aFullDiskFailsTheCaptureWithAClearErrorAndTheAgentKeepsGoing() throws {
        let env = try AgentLab(pods: 2)
        let directory = "/tmp/\(env.lab.id)-tiny"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Shell.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", directory])
        defer {
            env.stopAgent()
            _ = try? Shell.run(["umount", directory], check: false)
            try? FileManager.default.removeItem(atPath: directory)
        }
        try env.startAgent(extraArguments: [
            "--capture-dir", directory, "--alerts", "/dev/null",
            "--response", "protocol_mismatch=alert+capture", "--capture-snaplen", "2048"
        ])
        let (client, c2) = (env.lab.pods[0], env.lab.pods[1])
        try env.lab.spawnInPod(c2, ["sh", "-c", "nc -l -p 80 > /dev/null"])
        usleep(300_000)
        // About 300 kB in 1 kB writes after the alert: far more than the 64 kB disk.
        try env.lab.spawnInPod(
            client,
            [
                "sh", "-c",
                """
                (printf 'SSH-2.0-x\\r\\n'; sleep 0.5; for i in $(seq 300); do head -c 1000 /dev/zero; sleep 0.005; done) \
                | nc -q 1 -w 5 \(c2.ipv4) 80
                """
            ])
        let failed = waitUntil(timeout: 10) { env.log.contains("No space left on device") }
        #expect(failed != nil, "the capture reports the full disk; log:\n\(env.log)")
        #expect(env.log.contains("capture pm-") && env.log.contains("failed: writing \(directory)/pm-"))
        #expect(env.agent?.isRunning == true, "the agent keeps running")
        let status = try env.podwall(["status"], check: false)
        #expect(status.status == 0, "and keeps answering: \(status.error)")
    }
}
