/* Each pod's budget of new-flow events (pw_config): a flood of new flows
 * from one pod (hping3 --flood opens one per packet) would otherwise fill
 * the ring that every pod's events share, and the events lost would be
 * anyone's. Past its budget a pod's new flows are counted in its link
 * entry's summary and reported as one event per PW_FLOW_SUMMARY_INTERVAL_NS:
 * the flooding pod is still seen, in numbers, and the others lose nothing.
 * Only the path that creates a flow pays for it. */
#ifndef PODWALL_LIB_BUDGET_H
#define PODWALL_LIB_BUDGET_H

#include "compat.h"
#include "counters.h"
#include "events.h"
#include "maps.h"
#include "parse.h"

static __always_inline struct pw_link *pw_budget_link(__u32 ifindex)
{
	return PW_HAVE_EVENT_BUDGET ? bpf_map_lookup_elem(&pw_links, &ifindex) : NULL;
}

/* Whether a flow is summarized; constant 0 in the compat build, so that its
 * verifier (a million instructions over every parser path) sees no branch. */
#define pw_flow_summarized(value) (PW_HAVE_EVENT_BUDGET && ((value)->flags & PW_FLOW_SUMMARIZED))

/* PW_FLOW_SUMMARIZED when a new flow on `ifindex` is past its pod's budget,
 * else 0. A generic cell rate algorithm: one timestamp, no refill loop. Two
 * CPUs may read the same timestamp and both pass: the budget is kept within
 * an event or two. */
static __always_inline __u32 pw_new_flow_budget(__u32 ifindex, __u64 now)
{
	if (!PW_HAVE_EVENT_BUDGET)
		return 0;
	__u32 zero = 0;
	const struct pw_config *config = bpf_map_lookup_elem(&pw_config, &zero);
	struct pw_link *link = pw_budget_link(ifindex);

	if (!config || !config->pod_events_per_second || !link)
		return 0;
	__u64 interval = 1000000000ULL / config->pod_events_per_second;
	__u64 tat = link->event_tat_ns > now ? link->event_tat_ns : now;

	if (tat - now > interval * config->pod_event_burst)
		return PW_FLOW_SUMMARIZED;
	link->event_tat_ns = tat + interval;
	return 0;
}

/* One bit of a 64-bit sketch. */
static __always_inline __u64 pw_sketch_bit(__u32 value)
{
	return 1ULL << ((value * 2654435761U) >> 26);
}

/* Sends the summary when its interval is over, and starts the next. Counts
 * other CPUs add between the copy and the reset are lost (a few at most). */
static __always_inline void pw_flush_summary(__u32 ifindex, struct pw_flow_summary *summary, __u64 now)
{
	if (!summary->interval_start_ns || now - summary->interval_start_ns < PW_FLOW_SUMMARY_INTERVAL_NS)
		return;
	struct pw_flow_summary_event *event = bpf_ringbuf_reserve(&pw_events, sizeof(*event), 0);

	if (!event) {
		pw_count_ring_drop(ifindex);
		return; /* kept: the next flush sends it, over a longer interval */
	}
	asm volatile("" : : "r"(__builtin_btf_type_id(*event, 0)));
	event->header.type = PW_EVENT_FLOW_SUMMARY;
	event->header.size = sizeof(*event);
	event->header.pad = 0;
	event->header.timestamp_ns = now;
	event->ifindex = ifindex;
	event->pad = 0;
	__builtin_memcpy(&event->summary, summary, sizeof(*summary));
	bpf_ringbuf_submit(event, 0);
	__builtin_memset(summary, 0, sizeof(*summary));
	summary->interval_start_ns = now;
}

/* A new flow past its pod's budget, counted instead of reported. A global
 * function with scalar arguments, verified on its own: inlined, its frame
 * took pw_from_pod's combined stack past 512 bytes. `first` packs the
 * protocol (bits 0-7), the TCP flags (8-15) and the remote port (16-31);
 * `sized` the first packet's bytes (0-30) and whether the pod opened it (31). */
pw_subprog int pw_summarize(__u32 ifindex, __u32 first, __u32 host, __u32 sized, __u64 now)
{
	struct pw_link *link = pw_budget_link(ifindex);
	__u8 proto = first & 0xff, tcp_flags = (first >> 8) & 0xff;

	pw_count(PW_CNT_FLOWS_SUMMARIZED, 1);
	if (!link)
		return 0;
	struct pw_flow_summary *summary = &link->summary;

	if (!summary->interval_start_ns)
		summary->interval_start_ns = now;
	pw_add(&summary->new_flows, 1);
	if (proto == IPPROTO_TCP && (tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN)
		pw_add(&summary->tcp_syns, 1);
	pw_add(&summary->bytes, sized & 0x7fffffff);
	/* An inbound flow's remote port is its client's ephemeral one: only the
	 * flows the pod opened say where it reaches. */
	if (sized >> 31) {
		pw_add(&summary->pod_initiated, 1);
		pw_fetch_or(&summary->remote_ports, pw_sketch_bit(first >> 16));
		pw_fetch_or(&summary->remote_hosts, pw_sketch_bit(host));
	}
	pw_flush_summary(ifindex, summary, now);
	return 0;
}

static __always_inline void pw_summarize_new_flow(__u32 ifindex, const struct pw_packet *pkt,
						  enum pw_direction direction, __u32 bytes, __u64 now)
{
	if (!PW_HAVE_EVENT_BUDGET)
		return; /* no flow is summarized there: no subprogram to verify */
	const __u8 *remote = direction == PW_DIR_FROM_POD ? pkt->dst : pkt->src;
	__u32 port = direction == PW_DIR_FROM_POD ? pkt->dport : pkt->sport;
	__u32 host;

	__builtin_memcpy(&host, &remote[12], sizeof(host)); /* enough to tell hosts apart */
	pw_summarize(ifindex, pkt->proto | (__u32)pkt->tcp_flags << 8 | port << 16, host,
		     (bytes & 0x7fffffff) | (direction == PW_DIR_FROM_POD ? 1U << 31 : 0), now);
}

/* A summarized flow's first answer: counted in its pod's summary, not sent. */
static __always_inline void pw_summarize_reply(__u32 ifindex)
{
	struct pw_link *link = pw_budget_link(ifindex);

	if (link)
		pw_add(&link->summary.replies, 1);
}

#endif
