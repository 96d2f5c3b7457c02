import PodwallCapture
import PodwallCore
import PodwallDetection
import PodwallKernel

public struct AgentConfiguration: Sendable {
    public var interfaces: [InterfacePattern] = InterfacePattern.defaults
    public var pinRoot: String = BPFFilesystem.defaultPinRoot
    public var flowEntries: UInt32 = 262_144
    /// The flow events' ring (`events.ring_bytes`).
    public var eventBufferBytes = Datapath.defaultEventBufferBytes
    /// Process events (exec, fork, exit in pods); the names judged are in `detection.processRules`.
    public var processesEnabled = true
    public var processEventBufferBytes = ProcessMonitor.defaultEventBufferBytes
    /// File and breakout events (with the process programs); the paths are `detection.fileRules`.
    public var filesEnabled = true
    /// Each pod's budget of new-flow events (`events.pod_events_per_second`, 0: none).
    public var podEventsPerSecond = PolicyGeneration.defaultPodEventsPerSecond
    public var podEventBurst = PolicyGeneration.defaultPodEventBurst
    /// TCX links where the kernel has them, else clsact filters.
    public var attachMode: TCAttachMode = .auto
    /// Flows without a packet for this long are reported ended and removed.
    public var idleTimeoutSeconds: Double = 120
    /// Closed TCP flows (FIN/RST) are removed sooner.
    public var closedTimeoutSeconds: Double = 10
    public var sweepIntervalSeconds: Double = 5
    public var statsIntervalSeconds: Double = 30
    /// Log every flow event (new / payload / end) at info level.
    public var logFlows: Bool = false
    /// The pods' cgroup for the connect/sendmsg hooks: nil detects it
    /// (kubepods under the cgroup v2 mount), "" disables the hooks.
    public var cgroupPath: String? = nil
    /// Destinations never blocked (cluster DNS, API server, node addresses).
    public var allow: [IPPrefix] = []
    /// Feeds loaded at start and reloaded when their files change.
    public var feeds: [FeedSource] = []
    public var feedPolicy = FeedPolicy()
    public var feedMode: FeedMode = .strict
    public var feedPollSeconds: Double = 5
    /// How often feeds given as URLs are downloaded again.
    public var feedURLPollSeconds: Double = 3600
    /// Detectors, dedup window and response policy.
    public var detection = AggregatorConfig()
    /// Alerts as JSON lines: this file, or stdout when nil.
    public var alertsPath: String? = nil

    /// Where alert captures go; nil: the `capture` response is off.
    public var captureDirectory: String? = CaptureStore.defaultDirectory
    public var captureLimits = CaptureManager.Limits()
    public var alertCapture = AlertCaptureSettings()

    /// The HTTP API; nil: off.
    public var apiAddress: APIAddress? = APIAddress("127.0.0.1:9464")
    /// Bearer token for the API's write endpoints; writes are refused without it.
    public var apiTokenFile: String? = "/etc/podwall/token"

    /// Where pod identity looks for processes, and the kubelet that names pods.
    public var procRoot = "/proc"
    public var kubelet = KubeletSettings()

    public init() {}
}

public struct KubeletSettings: Sendable, Equatable {
    /// nil: no kubelet; pods are named pod-<UID>.
    public var podsURL: String?
    public var tokenFile: String?
    public var insecureSkipTLSVerify = false
}
