/* The process pillar's maps: its own ring, config, counters and names, so
 * a flood of exec events and one of packets never share a ring buffer. */
#ifndef PODWALL_LIB_PROCESS_MAPS_H
#define PODWALL_LIB_PROCESS_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../podwall_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_PROCESS_EVENTS_DEFAULT_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_proc_events SEC(".maps");

/* Written by the agent only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_process_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_proc_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_PCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_proc_counters SEC(".maps");

/* Program names the exec policy knows (enum pw_exec_class), from the
 * agent's configuration. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_EXEC_NAMES_ENTRIES);
	__type(key, struct pw_exec_name_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_exec_names SEC(".maps");

/* Each pod process's last TCP connect() out (by tgid): a shell it exec'd,
 * or on the other side of its pipes, within PW_RELAY_WINDOW_NS is relayed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_RELAY_CONNECTS_ENTRIES);
	__type(key, __u32);
	__type(value, struct pw_relay_connection);
} pw_relay_connects SEC(".maps");

/* Pipes on the stdio of stdin-reading shells and of processes that
 * connected out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_RELAY_PIPES_ENTRIES);
	__type(key, struct pw_inode_key);
	__type(value, struct pw_relay_pipe);
} pw_relay_pipes SEC(".maps");

/* The last stdin-reading shell each pod process started. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_RELAY_CONNECTS_ENTRIES);
	__type(key, __u32);
	__type(value, struct pw_relay_shell);
} pw_relay_shells SEC(".maps");

/* The pods' check by cgroup id, for programs that run in the task they judge. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_CGROUP_VERDICTS_ENTRIES);
	__type(key, __u64);
	__type(value, struct pw_cgroup_verdict);
} pw_cgroup_verdicts SEC(".maps");

/* Pod processes that exec'd in their pod or descend from one (tgid →
 * start): the file pillar trusts a runtime init's name only elsewhere. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_POD_PROGRAMS_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_pod_programs SEC(".maps");

/* Room to read one argument of a shell's command line (too big for the stack). */
#define PW_ARGUMENT_BYTES 128
struct pw_argument {
	char text[PW_ARGUMENT_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_argument);
} pw_argument_scratch SEC(".maps");

/* Wakes the agent at once for what it judges now (a shell, a network tool,
 * a kill, a socket on stdio); the rest waits for its next poll
 * (PW_PROCESS_POLL_MS), unless the ring fills past PW_PROCESS_WAKEUP_BYTES.
 * Measured: a wakeup per event was 35 of the 39.5 us the programs cost an
 * exec in a pod (BENCHMARKS.md). */
/* When each CPU last woke the agent for a full ring (ns). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pw_proc_wakeups SEC(".maps");

static __always_inline __u64 pw_process_submit_flags(int urgent)
{
	/* Forced: records that did not wake it may be waiting unread, and then
	 * the default (wake only an idle reader) would not. */
	if (urgent)
		return BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_query(&pw_proc_events, BPF_RB_AVAIL_DATA) <= PW_PROCESS_WAKEUP_BYTES)
		return BPF_RB_NO_WAKEUP;
	/* Behind: wake it, but not for every record (a crossing of the mark
	 * alone can be missed when two CPUs submit at once). */
	__u32 zero = 0;
	__u64 *last = bpf_map_lookup_elem(&pw_proc_wakeups, &zero);
	__u64 now = bpf_ktime_get_ns();

	if (last && now - *last < PW_PROCESS_WAKEUP_INTERVAL_NS)
		return BPF_RB_NO_WAKEUP;
	if (last)
		*last = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* A slot the verifier cannot see into (pw_forget). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pw_forget_slot SEC(".maps");

/* `value`, which the verifier no longer knows: the paths that decided it
 * merge into one from here (pw_exec's combinations of shell, relay, drop
 * and kill took Linux 5.10's verifier past its limit through the event's
 * filling, which needs none of them). */
static __always_inline __u64 pw_forget(__u64 value)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&pw_forget_slot, &zero);

	if (!slot)
		return value;
	*slot = value;
	return *(volatile __u64 *)slot;
}

static __always_inline void pw_process_count(enum pw_process_counter counter)
{
	__u32 index = counter;
	__u64 *value = bpf_map_lookup_elem(&pw_proc_counters, &index);

	if (value)
		*value += 1;
}

#define PW_SIGKILL 9

/* SIGKILLs the current process when `wanted`: taken before it returns to
 * its own code. Whether it was sent (and counted). */
static __always_inline int pw_kill_current(int wanted)
{
	if (!wanted || bpf_send_signal(PW_SIGKILL) != 0)
		return 0;
	pw_process_count(PW_PCNT_KILLS);
	return 1;
}

#endif
