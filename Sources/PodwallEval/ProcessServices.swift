import Foundation
import PodwallLab

/// What the process scenarios need besides their container: the attacker's
/// listener in the internet, and a vulnerable service in the container.
enum ProcessServices {
    /// The listener's port at `Lab.internetAddress`.
    static let shellPort: UInt16 = 4444
    /// The vulnerable service's port in the attacker pod.
    static let servicePort = 8080
    /// What a marker file's name starts with (in the container's /shared).
    static let markerPrefix = "ran-"

    /// The app container (idle), the service in it, and the listener.
    static func start(_ lab: Lab, in pod: Lab.Pod) throws -> Container {
        try lab.makeTemporaryDirectory()
        let app = try lab.runContainer(in: pod, name: "app", command: ["sleep", "infinity"])
        try lab.spawn(in: app, ["python3", "-c", vulnerableService])
        try lab.spawn(inNamespace: lab.internetNamespace, ["python3", "-c", listener, connectionsFile(lab)])
        usleep(500_000)
        return app
    }

    /// Where the listener writes how many connections it accepted so far
    /// (removed with the lab).
    static func connectionsFile(_ lab: Lab) -> String { lab.temporaryDirectory + "/listener-connections" }

    /// The listener's connections so far (0 before the first).
    static func connections(_ lab: Lab) -> Int {
        Int((try? String(contentsOfFile: connectionsFile(lab), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
            ?? 0
    }

    /// Accepts connections; sends each the shell's first command, which
    /// writes a marker file of its own; closes 2 s later. Writes the count
    /// of connections accepted to the file its first argument names.
    static let listener = """
        import itertools, socket, sys, threading, time
        count = itertools.count(1)
        def serve(connection, n):
            try:
                connection.sendall(b"touch /shared/\(markerPrefix)%d\\n" % n)
                connection.settimeout(0.2)
                end = time.time() + 2
                while time.time() < end:
                    try:
                        if not connection.recv(4096):
                            break
                    except socket.timeout:
                        pass
            except OSError:
                pass
            connection.close()
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("", \(shellPort)))
        server.listen(64)
        while True:
            connection, _ = server.accept()
            n = next(count)
            with open(sys.argv[1], "w") as counter:
                counter.write("%d\\n" % n)
            threading.Thread(target=serve, args=(connection, n), daemon=True).start()
        """

    /// An HTTP service that runs the `cmd` of a request's query with a
    /// shell: the command injection an attacker uses to start a reverse shell.
    static let vulnerableService = """
        import http.server, subprocess, urllib.parse
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                for command in query.get("cmd", []):
                    subprocess.Popen(command, shell=True)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok\\n")
            def log_message(self, *arguments):
                pass
        http.server.ThreadingHTTPServer(("", \(servicePort)), Handler).serve_forever()
        """

    /// The attacker's request (from the web pod) that makes the service run `command`.
    static func requestCommand(_ pods: EvalPods, _ command: String) throws {
        let query = command.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? command
        try pods.lab.inPod(
            pods.web, ["curl", "-s", "-m", "3", "-o", "/dev/null", "http://\(pods.attacker.ipv4):\(servicePort)/run?cmd=\(query)"],
            check: false)
    }

    /// A new workload for one run of a baseline or file scenario: a
    /// container (`sleep infinity`, its root `root`) of a pod of its own,
    /// `podName` (its UID follows from the name), in a network namespace no pod interface leads to, so the agent names the
    /// pod by its cgroup (`pod-<UID>`), a workload it never saw: its
    /// learning window opens at the container's first exec.
    static func startWorkload(_ lab: Lab, podName: String, root: ContainerRoot) throws -> BaselineWorkload {
        let namespace = lab.id + "-baseline"
        if !FileManager.default.fileExists(atPath: "/run/netns/" + namespace) {
            try Shell.run(["ip", "netns", "add", namespace])
        }
        let container = try lab.runContainer(
            podName: podName, networkNamespace: namespace, name: "app", command: ["sleep", "infinity"], root: root)
        return BaselineWorkload(container: container, started: Date())
    }

    /// The marker files in the container's /shared, removed once counted.
    static func takeMarkers(_ app: Container) -> Int {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: app.sharedDirectory)) ?? []
        let markers = files.filter { $0.hasPrefix(markerPrefix) }
        for marker in markers { try? FileManager.default.removeItem(atPath: app.sharedDirectory + "/" + marker) }
        return markers.count
    }
}

/// A baseline scenario's container, new for each run.
public struct BaselineWorkload: Sendable {
    public let container: Container
    /// When its container was running (its first exec is at most this late).
    public let started: Date
    /// The pod name the agent gives it (`ProcessLocator.name(ofCgroup:)`).
    public var podName: String { "pod-" + container.podUID }

    /// Sleeps until `seconds` after the window opened, and `margin` more.
    func wait(untilLearnedFor seconds: Double, margin: Double) {
        let rest = started.addingTimeInterval(seconds + margin).timeIntervalSinceNow
        if rest > 0 { usleep(useconds_t(rest * 1_000_000)) }
    }
}
