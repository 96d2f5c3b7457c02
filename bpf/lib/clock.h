/* The time stamp of every packet: the coarse monotonic clock (one tick, a
 * few ms), enough for last_seen and for expiry checks. Flow creation and
 * events, which detection latency is measured from, read the precise clock.
 *
 * Reading it costs a helper call, ≈ 13 ns a packet on CPUs where every
 * return is mitigated (SRSO), while bpf_jiffies64() is inlined into a load
 * (and so is this per-CPU lookup, on x86-64 from Linux 6.10; before, it is a
 * call too, and the cache gains nothing). The coarse clock only moves when
 * jiffies do, so it is read once per tick on each CPU and kept.
 *
 * Read just as a tick lands (jiffies move before the coarse time), a CPU
 * keeps the old time for that tick: `now` may trail by up to two ticks and
 * may be behind another CPU's. Per CPU it never goes back; last_seen only
 * moves forward, and interval checks across CPUs compare signed. */
#ifndef PODWALL_LIB_CLOCK_H
#define PODWALL_LIB_CLOCK_H

#include "compat.h"
#include "hints.h"
#include "maps.h"

static __always_inline __u64 pw_coarse_now(void)
{
	__u32 zero = 0;
	struct pw_tick *tick = bpf_map_lookup_elem(&pw_clock, &zero);
	__u64 jiffies = bpf_jiffies64();

	if (pw_unlikely(!tick))
		return pw_ktime_get_coarse_ns();
	if (pw_unlikely(tick->jiffies != jiffies)) {
		tick->coarse_ns = pw_ktime_get_coarse_ns();
		tick->jiffies = jiffies;
	}
	return tick->coarse_ns;
}

#endif
