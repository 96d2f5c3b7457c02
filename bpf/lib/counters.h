#ifndef PODWALL_LIB_COUNTERS_H
#define PODWALL_LIB_COUNTERS_H

#include "maps.h"

/* Per-CPU, so no atomics are needed on the hot path. */
static __always_inline void pw_count(enum pw_counter counter, __u64 amount)
{
	__u32 index = counter;
	__u64 *value = bpf_map_lookup_elem(&pw_counters, &index);

	if (value)
		*value += amount;
}

#endif
