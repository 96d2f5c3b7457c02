/* The records of the syscall tracepoints (tracefs's syscalls/sys_enter_*
 * and sys_exit_*): every argument is a long, whatever its C type. */
#ifndef PODWALL_LIB_SYSCALL_H
#define PODWALL_LIB_SYSCALL_H

#include <linux/types.h>

struct pw_syscall_enter {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	long args[6];
};

struct pw_syscall_exit {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	long ret;
};

/* openat's and friends' "relative to the cwd". */
#define PW_AT_FDCWD (-100)

#endif
