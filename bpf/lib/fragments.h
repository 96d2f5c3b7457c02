/* Later fragments carry no L4 header: the first fragment leaves its ports
 * here so the rest of the datagram is accounted to the right flow. */
#ifndef PODWALL_LIB_FRAGMENTS_H
#define PODWALL_LIB_FRAGMENTS_H

#include "counters.h"
#include "parse.h"

static __always_inline void pw_frag_key_of(struct pw_frag_key *key, const struct pw_packet *pkt)
{
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memcpy(key->src, pkt->src, 16);
	__builtin_memcpy(key->dst, pkt->dst, 16);
	key->id = pkt->frag_id;
	key->proto = pkt->proto;
}

/* Remembers the ports of a first fragment, or restores them for a later
 * one (raising the packet to L4 when they are known). */
static __always_inline void pw_track_fragment(struct pw_packet *pkt)
{
	struct pw_frag_key key;

	if (pw_likely(pkt->fragment == PW_FRAG_NONE))
		return;
	pw_count(PW_CNT_FRAGMENTS, 1);
	pw_frag_key_of(&key, pkt);

	if (pkt->fragment == PW_FRAG_FIRST) {
		struct pw_frag_ports ports = {.sport = pkt->sport, .dport = pkt->dport};

		if (pkt->level == PW_PARSED_L4)
			bpf_map_update_elem(&pw_frags, &key, &ports, BPF_ANY);
		return;
	}
	struct pw_frag_ports *ports = bpf_map_lookup_elem(&pw_frags, &key);

	if (!ports) {
		pw_count(PW_CNT_FRAGMENTS_UNTRACKED, 1);
		return;
	}
	pkt->sport = ports->sport;
	pkt->dport = ports->dport;
	pkt->payload_offset = 0xffffffff; /* no payload snapshot from fragments */
	pkt->level = PW_PARSED_L4;
}

#endif
