import PodwallKernel
import PodwallDetection

/// `podwall config --print-defaults`: every key of podwall.yaml with its
/// default and what it does. It is also the schema: a key not in this
/// document is refused, and a test checks that it resolves to the agent's
/// built-in defaults.
public enum ConfigDefaults {
    public static let yaml = """
        # podwall.yaml: the node agent's configuration (`podwall run --config FILE`).
        # Every key is optional; shown here with its default. Any key can also be set with
        # `--set key.path=value` on the command line (flags win over the file), and most have
        # a flag of their own (`podwall run --help`). SIGHUP, or a change to the file, reloads
        # it: a file that fails validation is refused and the running configuration stays.

        # Interface name patterns (shell globs) of pods' host-side veths to attach to.
        interfaces: ["veth*", "lxc*", "cali*", "gke*", "eni*", "azv*"]
        # bpffs directory for podwall's pinned maps and links (restart to change).
        pin_root: /sys/fs/bpf/podwall
        # Flow table size, LRU entries (restart to change).
        flow_entries: 262144
        # How programs sit on pod interfaces (restart to change): auto = TCX links on
        # Linux >= 6.6 (podwall's program runs first, no qdisc), else a clsact qdisc with
        # filters; tcx = TCX or refuse to start; clsact = always the qdisc and filters.
        tc_attach: auto
        # Flows without a packet for this long are reported ended and removed.
        idle_timeout_seconds: 120
        # How often kernel counters are logged.
        stats_interval_seconds: 30
        # Log every flow event (new, reply, payload, end).
        log_flows: false
        # The pods' cgroup v2 directory for the connect()/sendmsg() hooks.
        # null: kubepods under the cgroup v2 mount; "": no socket hooks (TC still drops).
        cgroup: null
        # Pod, service and node CIDRs (and loopback): traffic inside them is never exfiltration.
        cluster_cidrs: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8, "fc00::/7", "::1/128"]
        # Destinations never blocked or quarantined away: cluster DNS, the API server.
        allow: []

        feeds:
          # Blocklist feeds: files, directories (reloaded when they change) or http(s) URLs.
          sources: []
          # A feeds file such as blocklists/feeds.yaml; its enabled feeds are added.
          config: null
          # Skip bad feed lines instead of rejecting the whole feed.
          lenient: false
          # Entries broader than these prefix lengths (a /0 would cut every pod off) are
          # refused, in feeds and in API requests, unless allow_broad is true (restart to change).
          allow_broad: false
          min_prefix_v4: 8
          min_prefix_v6: 32
          # How often feed URLs are downloaded again (conditional requests).
          url_interval_seconds: 3600

        detection:
          # TCP ports where only HTTP is expected.
          http_ports: [80]
          exfiltration:
            # Length of one volume interval.
            interval_seconds: 10
            # Quiet intervals learned before a pod can alert.
            warmup_intervals: 6
            # Never alert below this many bytes per interval.
            floor_bytes: 10000000
          scan:
            # Sources (pod addresses or CIDRs) never judged as scanners: health checkers,
            # monitoring, mesh control planes that meet many closed ports by design.
            allow_sources: []
            # The walk over a source's first contacts (TRW, Jung et al. 2004: a benign first
            # contact succeeds 80 % of the time, a scanner's 20 %, detection 0.99) flags a source
            # when a benign one would get there this rarely. 0.01 (the paper's): at its fourth
            # failed first contact in a row; 0.02: at its third, so a scan paced at 0.4 s
            # (nmap -T2) is decided within 1 s, and so is a client that meets three refused
            # ports in a row. 0.001-0.1.
            false_positive_probability: 0.01
            # Fan-out within 60 s, whatever the walk says: distinct ports on one host, distinct
            # hosts on one port.
            vertical_ports: \(ScanConfig().verticalPortThreshold)
            horizontal_hosts: \(ScanConfig().horizontalHostThreshold)

        # What to do about each kind of alert: alert | block[:TTL] | quarantine[:TTL], plus
        # "+capture" to record the flow (for a scan: the scanning pod) to a pcap file, and for
        # the kinds judged in the kernel "kill": the kernel kills the process at its exec
        # (reverse_shell, drop_execute: before its first instruction) or at the syscall
        # (breakout; sensitive_write: every write rule becomes a deny rule).
        responses:
          port_scan: quarantine:10m+capture
          exfiltration: block:1h+capture
          protocol_mismatch: block:1h+capture
          blocklist_hit: alert
          quarantine_drop: alert
          reverse_shell: kill+block:24h+capture
          network_tool: alert
          unexpected_process: alert
          flood: alert
          sensitive_write: alert
          sensitive_read: alert
          breakout: kill+quarantine:1h
          drop_execute: kill

        capture:
          # false: the capture response is off.
          enabled: true
          directory: /var/lib/podwall/captures
          # One capture file stops growing at this size.
          max_file_mib: 64
          # All capture files together; the oldest finished ones are evicted.
          disk_budget_mib: 1024
          # Packet budget and duration of one alert capture, enforced in the kernel.
          packets: 10000
          seconds: 60
          # Bytes kept of each packet (1-32704).
          snaplen: 256

        api:
          # HTTP API (health, metrics, alerts, flows, blocklist, quarantine, pcaps). "" turns it off.
          address: 127.0.0.1:9464
          # Bearer token for the write endpoints; without the file, writes are refused.
          token_file: /etc/podwall/token

        alerts:
          # Alerts as JSON lines appended to this file; null: stdout.
          file: null
          # Repeats of an open alert (a quarantined pod still knocking, a scan going on) are
          # folded into it: at most one update line per alert this often, carrying the count
          # since its previous line, plus one for each new response it asks for. So one
          # incident is at most 1 + 60 s / update_interval lines per 60-s alert window.
          update_interval: 10s

        # Processes in pods (those under `cgroup`): every exec, fork and exit, from BTF
        # tracepoints; reverse shells and network tools are judged at exec (see responses).
        processes:
          # false: the network only.
          enabled: true
          # Program names (a binary's basename, at most 15 bytes) judged as shells and
          # interpreters: one started with an inet socket on fd 0-2 is a reverse shell.
          shells: [\(ProcessRules().shells.sorted().joined(separator: ", "))]
          # Network tools: a network_tool alert; with -e/--sh-exec/exec: a reverse shell.
          network_tools: [\(ProcessRules().networkTools.sorted().joined(separator: ", "))]
          # Never allowed in a pod: killed at exec.
          denied: []
          # Each workload's binaries are learned this long after podwall first sees it (its
          # pods share one baseline); then a binary it never ran is an unexpected_process
          # alert, once per binary. 0 turns the baseline off. Learned again after a restart.
          learning_seconds: 600
          # Binaries (paths, or basenames) never reported as unexpected.
          allowed: []
          # The process events' ring buffer (a power of two, at least 4096).
          ring_bytes: \(ProcessMonitor.defaultEventBufferBytes)

        # Files and breakout attempts in pods, from syscall tracepoints (needs `processes`):
        # writes under sensitive paths and reads of secrets (each judged against what the
        # workload did during processes.learning_seconds), programs a pod wrote or ran
        # from memory (drop_execute), and setns, unshare, mount, modules, ptrace and the
        # runtime's socket (breakout). Paths are container paths; a rule is a path prefix
        # ("/etc/cron" covers /etc/cron.d/x; "/root/.ssh/" a directory).
        files:
          # false: no file or breakout events.
          enabled: true
          # false: only the lists below, not podwall's own (`podwall config --print-rules`).
          default_rules: true
          # Writes here are reported (sensitive_write).
          watch_writes: []
          # Reads of these files are reported (sensitive_read); a directory needs `names`
          # in a rule of its own, so a path here is a file.
          sensitive_reads: []
          # Writes here are killed at the syscall.
          deny_writes: []
          # Programs a pod writes here are killed at exec (drop_execute).
          no_exec: []

        # The flow events' ring, shared by every pod on the node.
        events:
          # Its size (a power of two, at least 4096): the default holds about 33,800 flow
          # events, a quarter of a second at the agent's measured ceiling (BENCHMARKS.md).
          ring_bytes: \(Datapath.defaultEventBufferBytes)
          # Each pod's budget of new-flow events, so that no pod takes the others' share:
          # past this many a second (after a burst of pod_event_burst) a pod's new flows
          # are counted in the kernel and reported as one summary every 250 ms (a flood
          # alert judges them). 0: no budget (Linux 5.10/5.11 have none).
          pod_events_per_second: \(PolicyGeneration.defaultPodEventsPerSecond)
          pod_event_burst: \(PolicyGeneration.defaultPodEventBurst)

        # Naming pods in alerts: host veth -> pod network namespace -> a process in it ->
        # its cgroup's pod UID (kubepods.../pod<UID>) -> the kubelet's namespace/name.
        kubernetes:
          # The node's /proc (a DaemonSet mounts the host's at /host/proc).
          proc_root: /proc
          # The kubelet's pod list, e.g. https://127.0.0.1:10250/pods; null: pods are named pod-<UID>.
          kubelet_pods_url: null
          # Bearer token for the kubelet (the service account's token).
          token_file: null
          # Accept the kubelet's self-signed serving certificate.
          insecure_skip_tls_verify: false

        """
}
