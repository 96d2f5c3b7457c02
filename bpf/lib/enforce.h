/* Blocklist, allowlist and quarantine decisions, shared by the TC data
 * path and the cgroup socket hooks. */
#ifndef PODWALL_LIB_ENFORCE_H
#define PODWALL_LIB_ENFORCE_H

#include "compat.h"
#include "counters.h"

struct pw_block_match {
	struct pw_block_entry *entry;
	__u32 prefixlen; /* mapped space */
};

/* A dynamic-only entry past its expiry no longer blocks, even with the
 * agent down; feed entries never expire in the kernel. */
static __always_inline int pw_block_entry_active(const struct pw_block_entry *entry, __u64 now)
{
	if (entry->feeds & ~PW_BLOCK_DYNAMIC)
		return 1;
	return entry->expires_ns == 0 || now < entry->expires_ns;
}

/* Looks `addr` up: single addresses first (hash), then prefixes (trie). */
static __always_inline int pw_block_lookup(const __u8 addr[16], __u64 now, struct pw_block_match *match)
{
	struct pw_addr_key host;

	__builtin_memcpy(host.addr, addr, 16);
	match->entry = bpf_map_lookup_elem(&pw_block_hosts, &host);
	if (match->entry && pw_block_entry_active(match->entry, now)) {
		match->prefixlen = 128;
		return 1;
	}

	struct pw_lpm_key net = {.prefixlen = 128};

	__builtin_memcpy(net.addr, addr, 16);
	match->entry = bpf_map_lookup_elem(&pw_block_nets, &net);
	match->prefixlen = 0; /* found by pw_block_prefixlen() when needed */
	return match->entry && pw_block_entry_active(match->entry, now);
}

/* The trie does not say which prefix matched: the matched length is the
 * shortest probe length that still finds the same entry (binary search,
 * eight lookups). Only called when an event is sent. */
static __always_inline __u32 pw_block_prefixlen(const __u8 addr[16], const struct pw_block_entry *entry)
{
	struct pw_lpm_key probe;
	__u32 low = 0, high = 128;

	__builtin_memcpy(probe.addr, addr, 16);
#pragma unroll
	for (int step = 0; step < 8; step++) {
		__u32 middle = (low + high) / 2;

		probe.prefixlen = middle;
		if (low < high) {
			if (bpf_map_lookup_elem(&pw_block_nets, &probe) == entry)
				high = middle;
			else
				low = middle + 1;
		}
	}
	return high;
}

static __always_inline __u32 pw_policy_generation(void)
{
	__u32 zero = 0;
	struct pw_config *config = bpf_map_lookup_elem(&pw_config, &zero);

	return config ? config->policy_generation : 0;
}

/* The allowlist wins over the blocklist and quarantine. */
static __always_inline int pw_allowed(const __u8 addr[16])
{
	struct pw_lpm_key key = {.prefixlen = 128};

	__builtin_memcpy(key.addr, addr, 16);
	__u64 *hits = bpf_map_lookup_elem(&pw_allow_nets, &key);

	if (!hits)
		return 0;
	pw_add(hits, 1);
	pw_count(PW_CNT_ALLOWLIST_OVERRIDES, 1);
	return 1;
}

/* An active quarantine of a pod interface, or NULL. */
static __always_inline struct pw_quarantine *pw_quarantine_of(__u32 ifindex, __u64 now)
{
	struct pw_quarantine *quarantine = bpf_map_lookup_elem(&pw_quarantine, &ifindex);

	if (!quarantine || (quarantine->expires_ns && now >= quarantine->expires_ns))
		return NULL;
	return quarantine;
}

#endif
