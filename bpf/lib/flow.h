/* Flow accounting: one LRU entry per (interface, pod side, remote side,
 * protocol), counters per direction, first payload bytes per direction,
 * and new / end / payload events, each sent at most once per flow. */
#ifndef PODWALL_LIB_FLOW_H
#define PODWALL_LIB_FLOW_H

#include <linux/pkt_cls.h>
#include "bounds.h"
#include "budget.h"
#include "compat.h"
#include "enforce.h"
#include "events.h"
#include "parse.h"

static __always_inline void pw_flow_key_of(struct pw_flow_key *key, const struct pw_packet *pkt, __u32 ifindex,
					   enum pw_direction direction)
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

/* Creates the entry of a flow that was not found. `flags` are set in the
 * new entry before it is visible, so that no other CPU ever sees a
 * quarantined pod's new flow unflagged. NULL (counted) when the table
 * cannot take the flow: the caller still decides the packet's verdict. */
static __always_inline struct pw_flow_value *pw_flow_create(const struct pw_flow_key *key, enum pw_direction direction,
							    __u32 flags, int *created)
{
	struct pw_flow_value fresh = {};
	__u64 now = bpf_ktime_get_ns();

	*created = 0;
	fresh.first_seen_ns = now;
	fresh.last_seen_ns = now;
	fresh.flags = flags | (direction == PW_DIR_FROM_POD ? PW_FLOW_POD_INITIATED : 0);
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

/* The quarantine a new flow of this pod falls under: the pod's, unless the
 * remote side is allowlisted. Checked before the flow is recorded, so that
 * the verdict does not depend on the flow table having room. */
static __always_inline struct pw_quarantine *pw_new_flow_quarantine(__u32 ifindex, const __u8 remote[16], __u64 now)
{
	struct pw_quarantine *quarantine = pw_quarantine_of(ifindex, now);

	return quarantine && !pw_allowed(remote) ? quarantine : NULL;
}

/* Adds a packet's bytes to its direction; whether they crossed another
 * volume step (PW_VOLUME_STEP_SHIFT), from the old value, so two CPUs on one
 * flow still see each step once. */
static __always_inline int pw_count_bytes(struct pw_flow_direction *dir, __u32 len)
{
#if PW_HAVE_VOLUME_EVENTS
	__u64 sent = pw_fetch_add(&dir->bytes, len);

	return ((sent ^ (sent + len)) >> PW_VOLUME_STEP_SHIFT) != 0;
#else
	pw_add(&dir->bytes, len);
	return 0;
#endif
}

/* Copies up to PW_PAYLOAD_SNAP payload bytes into the direction's snapshot. */
static __always_inline int pw_flow_copy_payload(struct pw_flow_direction *dir, struct __sk_buff *skb,
						const struct pw_packet *pkt)
{
	__u32 available = skb->len - pkt->payload_offset;
	__u32 len = available < PW_PAYLOAD_SNAP ? available : PW_PAYLOAD_SNAP;

	/* bpf_skb_load_bytes also reads paged (GSO) data. */
	if (len < 1)
		return 0;
	pw_show_bounds(len, PW_PAYLOAD_SNAP);
	if (bpf_skb_load_bytes(skb, pkt->payload_offset, dir->payload, len) < 0)
		return 0;
	dir->payload_len = len;
	return 1;
}

#if PW_HAVE_SEQUENCE_SNAPSHOT
/* Copies the first payload bytes of this direction once per flow. Returns
 * 1 when this packet filled the snapshot. For TCP that is the segment
 * starting at ISN + 1 (each direction's SYN notes where that is), whichever
 * CPU sees it first and in whatever order segments arrive: a later segment
 * (an HTTP body sent after its headers) is never judged as the start of the
 * stream, and a flow whose SYN was not seen (adopted mid-stream) has none.
 * The sequence number is read only on these rare paths (SYNs, payload
 * before the snapshot), so that it costs no stack in pw_packet. */
static __always_inline int pw_flow_snapshot_payload(struct pw_flow_value *value, struct __sk_buff *skb,
						    const struct pw_packet *pkt, enum pw_direction direction)
{
	__u32 claim = direction == PW_DIR_FROM_POD ? PW_FLOW_PAYLOAD_FROM_POD : PW_FLOW_PAYLOAD_TO_POD;
	struct pw_flow_direction *dir = &value->dir[direction & 1];
	__u32 syn = pkt->tcp_flags & PW_TCP_SYN;
	int wanted = pkt->payload_offset < skb->len && !(value->flags & claim);

	if (pw_likely(!syn && !wanted))
		return 0;
	if (pkt->proto == IPPROTO_TCP) {
		__u32 seen = direction == PW_DIR_FROM_POD ? PW_FLOW_SYN_FROM_POD : PW_FLOW_SYN_TO_POD;
		__be32 wire;

		/* Payload with no SYN before it (a flow adopted mid-stream): there
		 * will be no snapshot, so claim it now and keep the flow's later
		 * packets on the fast path above. */
		if (!syn && !(value->flags & seen)) {
			pw_fetch_or(&value->flags, claim);
			return 0;
		}
		if (bpf_skb_load_bytes(skb, pkt->l4_offset + 4, &wire, sizeof(wire)) < 0)
			return 0;
		__u32 seq = bpf_ntohl(wire);

		if (syn) {
			/* A retransmitted SYN writes the same. */
			dir->payload_seq = seq + 1;
			if (!(value->flags & seen))
				pw_fetch_or(&value->flags, seen);
		}
		/* A SYN's own data (TCP Fast Open) starts at ISN + 1 as well. */
		if (!wanted || !(value->flags & seen) || seq + (syn ? 1 : 0) != dir->payload_seq)
			return 0;
	}
	if (!wanted || (pw_fetch_or(&value->flags, claim) & claim))
		return 0;
	return pw_flow_copy_payload(dir, skb, pkt);
}
#else
/* The compat build's snapshot: the first payload this direction shows
 * (compat.h says why). */
static __always_inline int pw_flow_snapshot_payload(struct pw_flow_value *value, struct __sk_buff *skb,
						    const struct pw_packet *pkt, enum pw_direction direction)
{
	__u32 claim = direction == PW_DIR_FROM_POD ? PW_FLOW_PAYLOAD_FROM_POD : PW_FLOW_PAYLOAD_TO_POD;

	if (pw_likely(pkt->payload_offset >= skb->len || (value->flags & claim)))
		return 0;
	if (pw_fetch_or(&value->flags, claim) & claim)
		return 0;
	return pw_flow_copy_payload(&value->dir[direction & 1], skb, pkt);
}
#endif

/* Whether a flow whose last drop event went out at `last` (0: none yet)
 * may send another. Signed: `now` is per-CPU (clock.h) and may trail another
 * CPU's `last` by a tick, which must read as "too soon", not as a
 * wrapped-around gap. */
static __always_inline int pw_drop_event_due(__u64 now, __u64 last)
{
	return last == 0 || (__s64)(now - last) >= (__s64)PW_DROP_EVENT_INTERVAL_NS;
}

/* Drops a packet: counts it on the flow, the interface and the CPU, and
 * sends a drop event at most once per flow and PW_DROP_EVENT_INTERVAL_NS. */
static __always_inline int pw_flow_drop(struct __sk_buff *skb, const struct pw_flow_key *key,
					struct pw_flow_value *value, enum pw_direction direction,
					enum pw_drop_reason reason, const __u8 matched_addr[16],
					__u32 matched_prefixlen, __u64 now)
{
	__u32 ifindex = skb->ifindex;
	struct pw_link *link = bpf_map_lookup_elem(&pw_links, &ifindex);

	pw_count(reason == PW_DROP_BLOCKLIST ? PW_CNT_DROPS_BLOCKLIST : PW_CNT_DROPS_QUARANTINE, 1);
	if (link && reason < PW_DROP_REASON_COUNT)
		pw_add(&link->drops[reason], 1);
	if (!value)
		return TC_ACT_SHOT;
	pw_add(&value->dropped_packets, 1);

	__u64 last = value->last_drop_event_ns;

	if (!pw_drop_event_due(now, last))
		return TC_ACT_SHOT;
	/* Claim the event slot; a CPU that loses the race stays quiet. */
	if (pw_cmpxchg(&value->last_drop_event_ns, last, now) != last)
		return TC_ACT_SHOT;
	if (pw_unlikely(pw_flow_summarized(value))) {
		if (link)
			pw_add(&link->summary.drop_events, 1);
		return TC_ACT_SHOT;
	}

	struct pw_drop_event *event = bpf_ringbuf_reserve(&pw_events, sizeof(*event), 0);

	if (!event) {
		pw_count(PW_CNT_RINGBUF_DROPS, 1);
		if (PW_HAVE_LINK_COUNTS && link)
			pw_add(&link->ring_drops, 1);
		return TC_ACT_SHOT;
	}
	__builtin_memset(event, 0, sizeof(*event));
	asm volatile("" : : "r"(__builtin_btf_type_id(*event, 0)));
	event->header.type = PW_EVENT_DROP;
	event->header.size = sizeof(*event);
	event->header.timestamp_ns = bpf_ktime_get_ns();
	__builtin_memcpy(&event->key, key, sizeof(*key));
	event->direction = direction;
	event->reason = reason;
	event->matched_prefixlen = matched_prefixlen;
	if (matched_addr)
		__builtin_memcpy(event->matched_addr, matched_addr, 16);
	bpf_ringbuf_submit(event, 0);
	return TC_ACT_SHOT;
}

/* Accounts a packet that passed the blocklist to its flow (`value`, when
 * already looked up) and returns the TC verdict: quarantine drops the new
 * flows of a quarantined pod. */
static __always_inline int pw_flow_account(struct __sk_buff *skb, const struct pw_packet *pkt,
					   enum pw_direction direction, __u64 now, const struct pw_flow_key *flow_key,
					   struct pw_flow_value *value, __u32 generation)
{
	const struct pw_flow_key *key = flow_key;
	struct pw_quarantine *quarantine = NULL;
	int created = 0;

	/* A SYN on a flow that has ended is a new connection reusing the
	 * ports (a client's next connection, or one bound there on purpose):
	 * it gets a new flow, with its own events and payload snapshots, so
	 * that what it sends is judged rather than hidden behind the old one's. */
	if (PW_HAVE_FLOW_REOPEN && pw_unlikely(value && pkt->proto == IPPROTO_TCP &&
					       (pkt->tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN &&
					       (value->flags & PW_FLOW_END_SENT))) {
		bpf_map_delete_elem(&pw_flows, key);
		value = NULL;
	}
	if (pw_unlikely(!value)) {
		const __u8 *remote = direction == PW_DIR_FROM_POD ? pkt->dst : pkt->src;

		quarantine = pw_new_flow_quarantine(skb->ifindex, remote, now);
		value = pw_flow_create(key, direction,
				       (quarantine ? PW_FLOW_QUARANTINED : 0) | pw_new_flow_budget(skb->ifindex, now),
				       &created);
		if (created && value && pw_flow_summarized(value))
			pw_summarize_new_flow(skb->ifindex, pkt, direction, skb->len, now);
	} else if (pw_unlikely(value->flags & PW_FLOW_QUARANTINED)) {
		quarantine = pw_quarantine_of(skb->ifindex, now);
	}
	if (pw_likely(value) && pw_unlikely(value->policy_generation != generation))
		value->policy_generation = generation;

	/* Fail closed: a quarantined pod's packet is dropped whether or not its
	 * flow could be recorded (a failed insert is counted by pw_flow_create). */
	if (pw_unlikely(quarantine)) {
		pw_add(&quarantine->drops, 1);
		return pw_flow_drop(skb, key, value, direction, PW_DROP_QUARANTINE, NULL, 0, now);
	}
	if (pw_unlikely(!value))
		return TC_ACT_UNSPEC;

	struct pw_flow_direction *dir = &value->dir[direction & 1];
	__u32 segments = skb->gso_segs > 1 ? skb->gso_segs : 1;

	pw_add(&dir->packets, segments);
	int stepped = pw_count_bytes(dir, skb->len);

	/* Only move forward: creation stamped the precise clock. Skipping the
	 * store within a tick also keeps the entry's cache line cleaner. */
	if (now > value->last_seen_ns)
		value->last_seen_ns = now;
	if (pkt->tcp_flags && pw_unlikely((dir->tcp_flags & pkt->tcp_flags) != pkt->tcp_flags))
		pw_fetch_or(&dir->tcp_flags, pkt->tcp_flags);

	/* A flow past its pod's budget sends no event: its answer is counted. */
	int summarized = pw_unlikely(pw_flow_summarized(value));

	if (pw_unlikely(created) && !summarized)
		pw_emit_flow_event(PW_EVENT_FLOW_NEW, key, value, direction, PW_END_NONE);
	if (!summarized && pw_unlikely(pw_flow_snapshot_payload(value, skb, pkt, direction)))
		pw_emit_flow_event(PW_EVENT_FLOW_PAYLOAD, key, value, direction, PW_END_NONE);
	/* Sent past the budget too: bounded by the bytes, and a flooding pod
	 * must not hide its exfiltration in the flood. */
	if (pw_unlikely(stepped) && direction == PW_DIR_FROM_POD && (value->flags & PW_FLOW_POD_INITIATED))
		pw_emit_flow_event(PW_EVENT_FLOW_VOLUME, key, value, direction, PW_END_NONE);

	/* The first answer tells scan detection a first contact succeeded; a
	 * bare RST is a refusal and is reported by the end event instead. */
	__u32 opener = (value->flags & PW_FLOW_POD_INITIATED) ? PW_DIR_FROM_POD : PW_DIR_TO_POD;

	if (direction != opener && pw_unlikely(!(value->flags & PW_FLOW_REPLY_SENT)) &&
	    !((pkt->tcp_flags & PW_TCP_RST) && !(pkt->tcp_flags & PW_TCP_SYN)) &&
	    !(pw_fetch_or(&value->flags, PW_FLOW_REPLY_SENT) & PW_FLOW_REPLY_SENT)) {
		if (summarized)
			pw_summarize_reply(skb->ifindex);
		else
			pw_emit_flow_event(PW_EVENT_FLOW_REPLY, key, value, direction, PW_END_NONE);
	}

	__u8 ending = pkt->tcp_flags & (PW_TCP_FIN | PW_TCP_RST);

	if (pw_unlikely(pkt->proto == IPPROTO_TCP && ending) && !summarized && !(value->flags & PW_FLOW_END_SENT) &&
	    !(pw_fetch_or(&value->flags, PW_FLOW_END_SENT) & PW_FLOW_END_SENT))
		pw_emit_flow_event(PW_EVENT_FLOW_END, key, value, direction,
				   (ending & PW_TCP_RST) ? PW_END_RST : PW_END_FIN);
	return TC_ACT_UNSPEC;
}

/* A packet to or from a blocklisted address: dropped whatever follows the
 * IP header (a fragment, a broken L4 header), accounted to its flow. */
static __always_inline int pw_flow_block(struct __sk_buff *skb, const struct pw_packet *pkt,
					 enum pw_direction direction, const struct pw_block_match *match, __u64 now)
{
	struct pw_flow_key key;
	int created = 0;
	const __u8 *remote = direction == PW_DIR_FROM_POD ? pkt->dst : pkt->src;

	pw_add(&match->entry->hits, 1);
	pw_flow_key_of(&key, pkt, skb->ifindex, direction);
	struct pw_flow_value *value = bpf_map_lookup_elem(&pw_flows, &key);

	/* Flagged like any new flow of a quarantined pod (the remote is not
	 * allowlisted, or it would not be blocked): once the entry is removed
	 * from the blocklist, the quarantine still holds the flow. */
	if (!value)
		value = pw_flow_create(&key, direction,
				       (pw_quarantine_of(skb->ifindex, now) ? PW_FLOW_QUARANTINED : 0) |
					       pw_new_flow_budget(skb->ifindex, now),
				       &created);

	if (created && value && pw_flow_summarized(value))
		pw_summarize_new_flow(skb->ifindex, pkt, direction, skb->len, now);
	else if (created && value)
		pw_emit_flow_event(PW_EVENT_FLOW_NEW, &key, value, direction, PW_END_NONE);
	__u32 prefixlen = match->prefixlen;

	/* The matched prefix is searched for only when an event may go out. */
	if (value && prefixlen == 0 && pw_drop_event_due(now, value->last_drop_event_ns))
		prefixlen = pw_block_prefixlen(remote, match->entry);
	return pw_flow_drop(skb, &key, value, direction, PW_DROP_BLOCKLIST, remote, prefixlen, now);
}

#endif
