/* What differs between the data path for Linux >= 5.12 and its compat build
 * (-DPW_PRE_5_12, loaded where the kernel refuses atomic fetch
 * instructions, i.e. Linux 5.10 and 5.11). Both come from the same code;
 * only the things below differ.
 *
 * Atomics. Linux before 5.12 knows one atomic instruction: add, without fetching the
 * old value (BPF_XADD); fetch, or, xchg and cmpxchg came in 5.12, and an
 * older verifier refuses the whole object if one appears ("BPF_STX uses
 * reserved fields"). clang emits the old encoding only for a relaxed add
 * whose result is unused, so every counter goes through pw_add.
 *
 * The few places that need the old value (claiming a once-per-flow event,
 * a capture's sequence number, the drop-event slot) use the pw_fetch_*
 * helpers. The compat build turns them into plain read-modify-writes: there, two CPUs handling packets of one flow at the
 * same instant may both send a once-per-flow event (the agent takes the
 * second as a repeat), and a capture may take a packet past its budget. */
#ifndef PODWALL_LIB_COMPAT_H
#define PODWALL_LIB_COMPAT_H

#define pw_add(ptr, amount) ((void)__atomic_fetch_add((ptr), (amount), __ATOMIC_RELAXED))

#ifndef PW_PRE_5_12
#define pw_fetch_or(ptr, bits)		 __sync_fetch_and_or((ptr), (bits))
#define pw_fetch_add(ptr, amount)	 __sync_fetch_and_add((ptr), (amount))
#define pw_cmpxchg(ptr, expected, value) __sync_val_compare_and_swap((ptr), (expected), (value))
#else
#define pw_fetch_or(ptr, bits)                                                                                         \
	({                                                                                                             \
		__typeof__(*(ptr)) pw_old = *(ptr);                                                                    \
		*(ptr) = pw_old | (bits);                                                                              \
		pw_old;                                                                                                \
	})
#define pw_fetch_add(ptr, amount)                                                                                      \
	({                                                                                                             \
		__typeof__(*(ptr)) pw_old = *(ptr);                                                                    \
		*(ptr) = pw_old + (amount);                                                                            \
		pw_old;                                                                                                \
	})
#define pw_cmpxchg(ptr, expected, value)                                                                               \
	({                                                                                                             \
		__typeof__(*(ptr)) pw_old = *(ptr);                                                                    \
		if (pw_old == (expected))                                                                              \
			*(ptr) = (value);                                                                              \
		pw_old;                                                                                                \
	})
#endif

/* Subprograms. A global function is verified once, on its own, instead of
 * once per call site; before 5.12 its arguments may only be the context and
 * scalars ("Arg#1 type PTR ... is not supported yet"), so the compat build
 * makes them static subprograms, verified with their callers. */
#ifndef PW_PRE_5_12
#define pw_subprog __noinline
#else
#define pw_subprog static __noinline
#endif

/* Capture. pw_capture walks up to 32 captures' filters; as a static
 * subprogram the 5.10 verifier walks that loop again for every path of the
 * parser that reaches it, and the program passes the one-million-instruction
 * limit ("Argument list too long"). The compat build has no in-kernel
 * capture; podwall says so where a capture is asked for. */
#ifndef PW_PRE_5_12
#define PW_HAVE_CAPTURE 1
#else
#define PW_HAVE_CAPTURE 0
#endif

/* Payload snapshots. The full build takes a TCP direction's snapshot from
 * the segment at ISN + 1 (flow.h). Those few more branches, verified again
 * on every parser path, took Debian's 5.10 past its million processed
 * instructions (E2BIG after 160 s emulated, where this build loads in 20 s):
 * the compat build keeps the first payload seen, which a body overtaking its
 * headers on another CPU can be. */
#ifndef PW_PRE_5_12
#define PW_HAVE_SEQUENCE_SNAPSHOT 1
#else
#define PW_HAVE_SEQUENCE_SNAPSHOT 0
#endif

/* Port reuse. The full build gives a SYN on an ended flow a new flow (flow.h);
 * on Debian's 5.10 that path took pw_from_pod's combined stack past 512
 * bytes, so the compat build keeps accounting such a connection to the
 * ended flow (its payload is then not judged). */
#ifndef PW_PRE_5_12
#define PW_HAVE_FLOW_REOPEN 1
#else
#define PW_HAVE_FLOW_REOPEN 0
#endif

/* Per-interface counts (link.h). Inlined, the lookup took Debian's 5.10
 * past its million processed instructions (E2BIG); in a global function,
 * verified on its own, the callee's frame took pw_from_pod's combined stack
 * past 512 bytes. The compat build counts no per-interface traffic, and the
 * agent exports no per-interface packet and byte counters there. */
#ifndef PW_PRE_5_12
#define PW_HAVE_LINK_COUNTS 1
#else
#define PW_HAVE_LINK_COUNTS 0
#endif

/* Volume events (flow.h). One more event call site, verified again with its
 * static subprogram on every parser path, took Debian's 5.10 past its
 * million processed instructions (E2BIG): the compat build sends none, and
 * exfiltration is judged from the agent's periodic reads of the flow table. */
#ifndef PW_PRE_5_12
#define PW_HAVE_VOLUME_EVENTS 1
#else
#define PW_HAVE_VOLUME_EVENTS 0
#endif

/* Per-pod event budgets (budget.h) live in the link entry the compat build
 * cannot reach: there every new flow is reported, as before. */
#define PW_HAVE_EVENT_BUDGET PW_HAVE_LINK_COUNTS

/* The coarse clock's helper came in 5.11; the compat build reads the precise
 * clock (the same CLOCK_MONOTONIC, a little dearer, read once per tick). */
#ifndef PW_PRE_5_12
#define pw_ktime_get_coarse_ns() bpf_ktime_get_coarse_ns()
#else
#define pw_ktime_get_coarse_ns() bpf_ktime_get_ns()
#endif

#endif
