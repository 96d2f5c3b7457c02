#ifndef PODWALL_LIB_EVENTS_H
#define PODWALL_LIB_EVENTS_H

#include "compat.h"
#include "counters.h"
#include "event_maps.h"

/* A record the full ring refused: counted on the CPU and, where the
 * build can reach it, on the interface whose event it was. */
static __always_inline void pw_count_ring_drop(__u32 ifindex)
{
	pw_count(PW_CNT_RINGBUF_DROPS, 1);
	if (PW_HAVE_LINK_COUNTS) {
		struct pw_link *link = bpf_map_lookup_elem(&pw_links, &ifindex);

		if (link)
			pw_add(&link->ring_drops, 1);
	}
}

/* Sends one flow record; a full ring buffer is counted, never silent.
 * A global function, not inlined: the data path calls it from five places,
 * each at most once per flow and never on the steady-state path, and one
 * copy instead of five makes the TC program 2 KB (14 %) smaller. The verifier
 * checks it once, on its own, so it must accept NULL pointers. */
pw_subprog int pw_emit_flow_event(__u32 type, const struct pw_flow_key *key, const struct pw_flow_value *value,
				  __u32 direction, __u32 end_reason)
{
	if (!key || !value)
		return 0;

	struct pw_flow_event *event = bpf_ringbuf_reserve(&pw_events, sizeof(*event), 0);

	if (!event) {
		pw_count_ring_drop(key->ifindex);
		return 0;
	}
	/* Records live only in the ring, so clang would leave their types out of
	 * BTF; naming the type keeps it there for tools and the ABI test. */
	asm volatile("" : : "r"(__builtin_btf_type_id(*event, 0)));
	event->header.type = type;
	event->header.size = sizeof(*event);
	event->header.pad = 0;
	/* Precise: detection latency is measured from this stamp. */
	event->header.timestamp_ns = bpf_ktime_get_ns();
	__builtin_memcpy(&event->key, key, sizeof(*key));
	event->direction = direction;
	event->end_reason = end_reason;
	__builtin_memset(event->pad, 0, sizeof(event->pad));
	__builtin_memcpy(&event->value, value, sizeof(*value));
	bpf_ringbuf_submit(event, 0);
	return 0;
}

#endif
