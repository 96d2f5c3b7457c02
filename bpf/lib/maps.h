/* Map definitions shared by every podwall program. Each name here must be
 * the one spelled in podwall_abi.h (PW_MAP_*_NAME). Maps are pinned by name
 * so that they outlive the agent and every object reuses the same ones. */
#ifndef PODWALL_LIB_MAPS_H
#define PODWALL_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../podwall_abi.h"

/* LRU so that a flood of new flows evicts old ones instead of failing;
 * enforcement state is never kept in an LRU map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FLOWS_DEFAULT_ENTRIES);
	__type(key, struct pw_flow_key);
	__type(value, struct pw_flow_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FRAGS_ENTRIES);
	__type(key, struct pw_frag_key);
	__type(value, struct pw_frag_ports);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_frags SEC(".maps");

#include "event_maps.h"

/* Enforcement state: never LRU, always pinned (fail-closed across restarts). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_BLOCK_HOSTS_DEFAULT_ENTRIES);
	__type(key, struct pw_addr_key);
	__type(value, struct pw_block_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_block_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_BLOCK_NETS_DEFAULT_ENTRIES);
	__type(key, struct pw_lpm_key);
	__type(value, struct pw_block_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_block_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_ALLOW_NETS_ENTRIES);
	__type(key, struct pw_lpm_key);
	__type(value, __u64); /* packets let through despite a block */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_allow_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_QUARANTINE_ENTRIES);
	__type(key, __u32); /* ifindex of the pod's host veth */
	__type(value, struct pw_quarantine);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_quarantine SEC(".maps");

/* Feed names by slot, for the agent and the CLI; the programs never read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_FEED_SLOTS);
	__type(key, __u32);
	__type(value, struct pw_feed);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_feeds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_DENY_LIMIT_ENTRIES);
	__type(key, struct pw_deny_limit_key);
	__type(value, __u64); /* last deny event, ns */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_deny_limit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_config SEC(".maps");

/* Packet capture (see podwall_abi.h). The owner of a capture creates its
 * ring buffer and puts it in its slot; every inner ring has the same size,
 * as map-in-map requires. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_CAPTURE_SLOTS);
	__type(key, __u32);
	__type(value, struct pw_capture);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_captures SEC(".maps");

struct pw_capture_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_CAPTURE_RING_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PW_CAPTURE_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct pw_capture_ring);
} pw_capture_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_capture_on);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_capture_on SEC(".maps");

/* Where a captured packet is staged before it is copied into a ring:
 * bpf_ringbuf_reserve() needs a constant size, bpf_ringbuf_output() does not. */
struct pw_capture_buf {
	struct pw_packet_record record;
	__u8 data[PW_CAPTURE_MAX_SNAPLEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_capture_buf);
} pw_capture_buf SEC(".maps");

/* The coarse clock as last read on this CPU, and the jiffy it was read in
 * (see clock.h). Each object has its own; nothing outside the kernel reads it. */
struct pw_tick {
	__u64 jiffies;
	__u64 coarse_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_tick);
} pw_clock SEC(".maps");

#endif
