/* Lengths passed to helpers that take a non-zero size (bpf_skb_load_bytes). */
#ifndef PODWALL_LIB_BOUNDS_H
#define PODWALL_LIB_BOUNDS_H

/* Shows the verifier that `len` lies in [1, max], on the very register that
 * is passed on. The caller has already returned on 0 and on values past max,
 * so these jumps never change the value. Written as C, clang merges such
 * checks into one range check on a copy of the register, and verifiers
 * before 6.2 neither carry that bound over to the copy nor learn "not
 * zero" from "!= 0" ("R3 min value is outside of the allowed memory range"). */
#define pw_show_bounds(len, max)                                                                                       \
	asm volatile("if %[l] > 0 goto +1\n\t"                                                                         \
		     "%[l] = 1\n\t"                                                                                    \
		     "if %[l] <= %[m] goto +1\n\t"                                                                     \
		     "%[l] = %[m]"                                                                                     \
		     : [l] "+r"(len)                                                                                   \
		     : [m] "i"(max))

/* `value &= mask` on the register that indexes: clang drops a mask it can
 * prove redundant, and verifiers before 6.2 cannot prove it ("unbounded
 * memory access"). `value` must be a 64-bit variable. */
#define pw_mask(value, mask) asm volatile("%[v] &= %[m]" : [v] "+r"(value) : [m] "i"(mask))

#endif
