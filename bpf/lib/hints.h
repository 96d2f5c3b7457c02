/* Branch hints: the packet of an established flow should run one straight,
 * contiguous stretch of code. Between two packets the kernel's own network
 * path evicts much of the program from the instruction cache, so cold
 * blocks (errors, new flows, drops, events) are moved out of its way. */
#ifndef PODWALL_LIB_HINTS_H
#define PODWALL_LIB_HINTS_H

#define pw_likely(x)   __builtin_expect(!!(x), 1)
#define pw_unlikely(x) __builtin_expect(!!(x), 0)

#endif
