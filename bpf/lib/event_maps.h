/* The maps an event's writer needs: the per-CPU counters, the events ring
 * and the interfaces' link entries (where a full ring is counted per pod).
 * Apart from maps.h so that the ingest bench's producer (bpf/bench/) shares
 * these with the agent without creating or adopting the data path's other maps. */
#ifndef PODWALL_LIB_EVENT_MAPS_H
#define PODWALL_LIB_EVENT_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../podwall_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_EVENTS_DEFAULT_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_events SEC(".maps");

/* Entries are created and removed by the agent only; the programs count
 * into them (link.h, and drops in flow.h). Pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_LINKS_ENTRIES);
	__type(key, __u32);
	__type(value, struct pw_link);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_links SEC(".maps");

#endif
