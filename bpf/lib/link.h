/* Per-interface traffic, counted in the interface's pw_links entry. */
#ifndef PODWALL_LIB_LINK_H
#define PODWALL_LIB_LINK_H

#include "compat.h"
#include "hints.h"
#include "maps.h"

/* One hash lookup and two atomic adds a packet. One shared value, not per
 * CPU: the agent reads and writes an entry whole, and only an interface
 * whose packets two CPUs handle at the same instant contends for the line.
 * An interface without an entry (a test run, an attach in progress) counts
 * nothing here; pw_counters still does. */
static __always_inline void pw_link_count(const struct __sk_buff *skb, enum pw_direction direction)
{
	if (!PW_HAVE_LINK_COUNTS)
		return;

	__u32 ifindex = skb->ifindex;
	struct pw_link *link = bpf_map_lookup_elem(&pw_links, &ifindex);

	if (pw_likely(link)) {
		pw_add(&link->packets[direction & 1], skb->gso_segs > 1 ? skb->gso_segs : 1);
		pw_add(&link->bytes[direction & 1], skb->len);
	}
}

#endif
