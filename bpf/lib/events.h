#ifndef PODWALL_LIB_EVENTS_H
#define PODWALL_LIB_EVENTS_H

#include "counters.h"

/* Sends one flow record; a full ring buffer is counted, never silent. */
static __always_inline void pw_emit_flow_event(enum pw_event_type type, const struct pw_flow_key *key,
					       const struct pw_flow_value *value, __u8 direction,
					       __u8 end_reason)
{
	struct pw_flow_event *event = bpf_ringbuf_reserve(&pw_events, sizeof(*event), 0);

	if (!event) {
		pw_count(PW_CNT_RINGBUF_DROPS, 1);
		return;
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
}

#endif
