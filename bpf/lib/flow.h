/* Flow accounting: one LRU entry per (interface, pod side, remote side,
 * protocol), counters per direction, first payload bytes per direction,
 * and new / end / payload events, each sent at most once per flow. */
#ifndef PODWALL_LIB_FLOW_H
#define PODWALL_LIB_FLOW_H

#include "events.h"
#include "parse.h"

static __always_inline void pw_flow_key_of(struct pw_flow_key *key, const struct pw_packet *pkt,
					   __u32 ifindex, enum pw_direction direction)
{
	__builtin_memset(key, 0, sizeof(*key));
	if (direction == PW_DIR_FROM_POD) {
		__builtin_memcpy(key->pod_addr, pkt->src, 16);
		__builtin_memcpy(key->remote_addr, pkt->dst, 16);
		key->pod_port = pkt->sport;
		key->remote_port = pkt->dport;
	} else {
		__builtin_memcpy(key->pod_addr, pkt->dst, 16);
		__builtin_memcpy(key->remote_addr, pkt->src, 16);
		key->pod_port = pkt->dport;
		key->remote_port = pkt->sport;
	}
	key->ifindex = ifindex;
	key->proto = pkt->proto;
	key->family = pkt->family;
}

static __always_inline struct pw_flow_value *pw_flow_lookup_or_create(const struct pw_flow_key *key,
								      enum pw_direction direction,
								      __u64 now, int *created)
{
	struct pw_flow_value *value = bpf_map_lookup_elem(&pw_flows, key);

	*created = 0;
	if (value)
		return value;

	struct pw_flow_value fresh = {};

	now = bpf_ktime_get_ns();
	fresh.first_seen_ns = now;
	fresh.last_seen_ns = now;
	fresh.flags = direction == PW_DIR_FROM_POD ? PW_FLOW_POD_INITIATED : 0;
	/* NOEXIST: when another CPU won the race, use its entry. */
	long err = bpf_map_update_elem(&pw_flows, key, &fresh, BPF_NOEXIST);

	if (err == 0) {
		*created = 1;
		pw_count(PW_CNT_FLOWS_CREATED, 1);
	} else if (err != -17 /* EEXIST */) {
		pw_count(PW_CNT_FLOW_INSERT_FAILURES, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&pw_flows, key);
}

/* Copies the first payload bytes of this direction once per flow. Returns
 * 1 when this packet filled the snapshot. */
static __always_inline int pw_flow_snapshot_payload(struct pw_flow_value *value, struct __sk_buff *skb,
						    const struct pw_packet *pkt, enum pw_direction direction)
{
	__u32 claim = direction == PW_DIR_FROM_POD ? PW_FLOW_PAYLOAD_FROM_POD : PW_FLOW_PAYLOAD_TO_POD;

	if (pkt->payload_offset >= skb->len || (value->flags & claim))
		return 0;
	if (__sync_fetch_and_or(&value->flags, claim) & claim)
		return 0;

	struct pw_flow_direction *dir = &value->dir[direction & 1];
	__u32 available = skb->len - pkt->payload_offset;
	__u32 len = available < PW_PAYLOAD_SNAP ? available : PW_PAYLOAD_SNAP;

	/* Hide len's origin from clang so the verifier sees the bound checks
	 * on len itself. bpf_skb_load_bytes also reads paged (GSO) data. */
	asm volatile("" : "+r"(len));
	if (len < 1 || len > PW_PAYLOAD_SNAP)
		return 0;
	if (bpf_skb_load_bytes(skb, pkt->payload_offset, dir->payload, len) < 0)
		return 0;
	dir->payload_len = len;
	return 1;
}

static __always_inline void pw_flow_account(struct __sk_buff *skb, const struct pw_packet *pkt,
					    enum pw_direction direction, __u64 now)
{
	struct pw_flow_key key;
	int created;

	pw_flow_key_of(&key, pkt, skb->ifindex, direction);
	struct pw_flow_value *value = pw_flow_lookup_or_create(&key, direction, now, &created);

	if (!value)
		return;

	struct pw_flow_direction *dir = &value->dir[direction & 1];
	__u32 segments = skb->gso_segs > 1 ? skb->gso_segs : 1;

	__sync_fetch_and_add(&dir->packets, segments);
	__sync_fetch_and_add(&dir->bytes, skb->len);
	/* Only move forward: creation stamped the precise clock. Skipping the
	 * store within a tick also keeps the entry's cache line cleaner. */
	if (now > value->last_seen_ns)
		value->last_seen_ns = now;
	if (pkt->tcp_flags && (dir->tcp_flags & pkt->tcp_flags) != pkt->tcp_flags)
		__sync_fetch_and_or(&dir->tcp_flags, pkt->tcp_flags);

	if (created)
		pw_emit_flow_event(PW_EVENT_FLOW_NEW, &key, value, direction, PW_END_NONE);
	if (pw_flow_snapshot_payload(value, skb, pkt, direction))
		pw_emit_flow_event(PW_EVENT_FLOW_PAYLOAD, &key, value, direction, PW_END_NONE);

	__u8 ending = pkt->tcp_flags & (PW_TCP_FIN | PW_TCP_RST);

	if (pkt->proto == IPPROTO_TCP && ending && !(value->flags & PW_FLOW_END_SENT) &&
	    !(__sync_fetch_and_or(&value->flags, PW_FLOW_END_SENT) & PW_FLOW_END_SENT))
		pw_emit_flow_event(PW_EVENT_FLOW_END, &key, value, direction,
				   (ending & PW_TCP_RST) ? PW_END_RST : PW_END_FIN);
}

#endif
