/* The TC data path shared by both directions of a pod's host-side veth. */
#ifndef PODWALL_LIB_DATAPATH_H
#define PODWALL_LIB_DATAPATH_H

#include <linux/pkt_cls.h>
#include "clock.h"
#include "flow.h"
#include "fragments.h"
#include "capture.h"
#include "link.h"

/* Only this many bytes are made linear when headers sit in paged data. */
#define PW_PULL_BYTES 256

/* Benchmarks only: scripts/bench-stages builds this program cut short after
 * each stage (-DPW_BENCH_STOP_AFTER=n) to time the stages on the real path.
 * podwall's own build never sets it, and then these compile to nothing. No
 * stop sits inside the flow stage: cut there, clang lays the program out
 * differently and the cut version runs slower than the whole. */
enum pw_bench_stage {
	PW_STAGE_COUNTERS = 1, /* clock, packet counters and the interface's counts */
	PW_STAGE_PARSE,	       /* headers parsed */
	PW_STAGE_CAPTURE,      /* fragments tracked, live captures checked; the rest is the flow */
};
#ifdef PW_BENCH_STOP_AFTER
#define pw_bench_stop_after(stage)                                                                                     \
	do {                                                                                                           \
		if ((stage) == PW_BENCH_STOP_AFTER)                                                                    \
			return TC_ACT_UNSPEC;                                                                          \
	} while (0)
#else
#define pw_bench_stop_after(stage)                                                                                     \
	do {                                                                                                           \
	} while (0)
#endif

static __always_inline int pw_datapath(struct __sk_buff *skb, enum pw_direction direction)
{
	struct pw_packet pkt;
	__u64 now = pw_coarse_now();

	pw_count(PW_CNT_PACKETS, skb->gso_segs > 1 ? skb->gso_segs : 1);
	pw_count(PW_CNT_BYTES, skb->len);
	pw_link_count(skb, direction);
	pw_bench_stop_after(PW_STAGE_COUNTERS);

	/* GSO packets may hold headers in paged data: pull only then, never
	 * on every packet (a pull costs about as much as the whole program).
	 * The second parse is written out, not a loop: verifiers before Linux
	 * 6.3 refuse a loop whose back-edge clang lays out as a fall-through
	 * ("back-edge from insn ..."), and a retry is no loop. */
	pw_parse(&pkt, skb);
	if (pw_unlikely(pkt.short_read) && skb->len > skb->data_end - skb->data) {
		__u32 pull = skb->len < PW_PULL_BYTES ? skb->len : PW_PULL_BYTES;

		if (bpf_skb_pull_data(skb, pull) == 0) {
			pw_count(PW_CNT_PULLS, 1);
			pw_parse(&pkt, skb);
		}
	}

	if (pw_unlikely(pkt.level == PW_PARSED_NOTHING && !pkt.error && !pkt.short_read)) {
		pw_count(PW_CNT_NON_IP, 1);
		return TC_ACT_UNSPEC;
	}
	if (pw_unlikely(pkt.error || pkt.short_read))
		pw_count(PW_CNT_PARSE_ERRORS, 1);
	if (pw_unlikely(pkt.ext_limit))
		pw_count(PW_CNT_IPV6_EXT_LIMIT, 1);
	if (pw_unlikely(pkt.level == PW_PARSED_NOTHING))
		return TC_ACT_UNSPEC;
	pw_bench_stop_after(PW_STAGE_PARSE);

	pw_track_fragment(&pkt);

#if PW_HAVE_CAPTURE
	/* Before the verdict, so an analyst also sees the packets that were dropped. */
	__u32 capture_slots = pw_capture_slots();

	if (pw_unlikely(capture_slots))
		pw_capture(skb, &pkt, direction, now, capture_slots);
#endif
	pw_bench_stop_after(PW_STAGE_CAPTURE);

	/* Addresses are all the blocklist needs: it is checked whatever the rest
	 * of the packet looks like. A flow already checked against the current
	 * policy generation skips the lookups (a hash and a trie walk, the most
	 * expensive part with a million entries); any change to the lists bumps
	 * the generation, so the next packet of every flow is checked again. */
	struct pw_flow_key key;
	struct pw_flow_value *known = NULL;
	__u32 generation = pw_policy_generation();
	const __u8 *remote = direction == PW_DIR_FROM_POD ? pkt.dst : pkt.src;

	if (pkt.level == PW_PARSED_L4) {
		pw_flow_key_of(&key, &pkt, skb->ifindex, direction);
		known = bpf_map_lookup_elem(&pw_flows, &key);
	}
	if (pw_unlikely(!known || known->policy_generation != generation || generation == 0)) {
		struct pw_block_match match;

		if (pw_unlikely(pw_block_lookup(remote, now, &match) && !pw_allowed(remote)))
			return pw_flow_block(skb, &pkt, direction, &match, now);
	}

	/* UNSPEC, not OK: other filters on the same hook (a CNI's) still run. */
	if (pkt.level == PW_PARSED_L4)
		return pw_flow_account(skb, &pkt, direction, now, &key, known, generation);
	return TC_ACT_UNSPEC;
}

#endif
