/* Packet capture: packets matching a live capture's filter are copied, up
 * to its snaplen, into that capture's own ring buffer. Budget and expiry are
 * enforced here, so a flood costs the agent nothing past the budget, and
 * every matched packet is counted as captured, skipped or lost. */
#ifndef PODWALL_LIB_CAPTURE_H
#define PODWALL_LIB_CAPTURE_H

#include "bounds.h"
#include "compat.h"
#include "parse.h"
#include "maps.h"

static __always_inline __u32 pw_capture_slots(void)
{
	__u32 zero = 0;
	struct pw_capture_on *on = bpf_map_lookup_elem(&pw_capture_on, &zero);

	return on ? on->slots : 0;
}

static __always_inline int pw_masked_equal(const __u8 addr[16], const __u8 net[16], const __u8 mask[16])
{
	const __u64 *a = (const __u64 *)addr, *n = (const __u64 *)net, *m = (const __u64 *)mask;

	return ((a[0] & m[0]) == n[0]) & ((a[1] & m[1]) == n[1]);
}

static __always_inline int pw_capture_matches(const struct pw_capture_filter *filter, const struct pw_packet *pkt,
					      __u32 ifindex, enum pw_direction direction)
{
	int from_pod = direction == PW_DIR_FROM_POD;
	const __u8 *pod = from_pod ? pkt->src : pkt->dst;
	const __u8 *remote = from_pod ? pkt->dst : pkt->src;
	/* Ports are known only at L4; a filter on a port never matches less. */
	__u16 pod_port = pkt->level == PW_PARSED_L4 ? (from_pod ? pkt->sport : pkt->dport) : 0;
	__u16 remote_port = pkt->level == PW_PARSED_L4 ? (from_pod ? pkt->dport : pkt->sport) : 0;

	if (filter->ifindex && filter->ifindex != ifindex)
		return 0;
	if (filter->proto && filter->proto != pkt->proto)
		return 0;
	if (filter->pod_port && filter->pod_port != pod_port)
		return 0;
	if (filter->remote_port && filter->remote_port != remote_port)
		return 0;
	return pw_masked_equal(pod, filter->pod_net, filter->pod_mask) &&
	       pw_masked_equal(remote, filter->remote_net, filter->remote_mask);
}

/* Stages the packet's first bytes once, however many captures want it;
 * returns the staged length, 0 if the bytes could not be read. */
static __always_inline __u32 pw_capture_stage(struct __sk_buff *skb, struct pw_capture_buf *buf)
{
	__u32 len = skb->len;

	if (len > PW_CAPTURE_MAX_SNAPLEN)
		len = PW_CAPTURE_MAX_SNAPLEN;
	if (len == 0)
		return 0;
	pw_show_bounds(len, PW_CAPTURE_MAX_SNAPLEN);
	if (bpf_skb_load_bytes(skb, 0, buf->data, len) != 0)
		return 0;
	return len;
}

static __always_inline void pw_capture_deliver(struct pw_capture *capture, __u32 slot, struct pw_capture_buf *buf,
					       __u32 staged, struct __sk_buff *skb, enum pw_direction direction)
{
	void *ring = bpf_map_lookup_elem(&pw_capture_rings, &slot);
	__u32 len = capture->snaplen < staged ? capture->snaplen : staged;

	if (!ring || len == 0 || len > PW_CAPTURE_MAX_SNAPLEN) {
		pw_add(&capture->lost, 1);
		return;
	}
	pw_show_bounds(len, PW_CAPTURE_MAX_SNAPLEN);
	buf->record.header.type = PW_EVENT_PACKET;
	buf->record.header.size = sizeof(buf->record) + len;
	buf->record.header.pad = 0;
	buf->record.header.timestamp_ns = bpf_ktime_get_ns();
	buf->record.capture_id = capture->id;
	buf->record.ifindex = skb->ifindex;
	buf->record.orig_len = skb->len;
	buf->record.cap_len = len;
	buf->record.direction = direction;
	__builtin_memset(buf->record.pad, 0, sizeof(buf->record.pad));
	if (bpf_ringbuf_output(ring, buf, sizeof(buf->record) + len, 0) != 0) {
		pw_add(&capture->lost, 1);
		return;
	}
	pw_add(&capture->captured, 1);
	pw_add(&capture->captured_bytes, len);
}

#if PW_HAVE_CAPTURE
/* A global (not inlined) function: the verifier checks it once, on its own,
 * instead of once for every path of the parser that reaches it. */
__noinline int pw_capture(struct __sk_buff *skb, const struct pw_packet *pkt, __u32 direction, __u64 now, __u32 slots)
{
	__u32 zero = 0, staged = 0;
	struct pw_capture_buf *buf = bpf_map_lookup_elem(&pw_capture_buf, &zero);

	if (!buf || !pkt)
		return 0;
#pragma clang loop unroll(disable)
	for (__u32 slot = 0; slot < PW_CAPTURE_SLOTS; slot++) {
		if (!(slots & (1U << slot)))
			continue;
		/* A copy: a counter whose address escapes loses its bounds. */
		__u32 key = slot;
		struct pw_capture *capture = bpf_map_lookup_elem(&pw_captures, &key);

		if (!capture || !pw_capture_matches(&capture->filter, pkt, skb->ifindex, direction))
			continue;
		/* The sequence number makes the budget exact across CPUs. */
		__u64 sequence = pw_fetch_add(&capture->matched, 1);

		if ((capture->max_packets && sequence >= capture->max_packets) ||
		    (capture->expires_ns && now > capture->expires_ns)) {
			pw_add(&capture->skipped, 1);
			continue;
		}
		if (!staged)
			staged = pw_capture_stage(skb, buf);
		pw_capture_deliver(capture, slot, buf, staged, skb, direction);
	}
	return 0;
}

#endif /* PW_HAVE_CAPTURE */

#endif
