// SPDX-License-Identifier: GPL-2.0
/* File and breakout pillar: syscall tracepoints in the pods' cgroups (no
 * kprobes, fentry or BPF LSM: not every kernel allows them). Logic in lib/;
 * each program is named after its tracepoint and attached by its section. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "lib/breakout.h"
#include "lib/file.h"
#include "lib/syscall.h"

#define PW_ARG(n)  (ctx->args[n])
#define PW_NAME(n) ((const char *)ctx->args[n])

/* An open's exit: the file it opened. */
#define PW_OPENED(tracepoint)                                                                                          \
	SEC("tracepoint/syscalls/" #tracepoint)                                                                        \
	int pw_##tracepoint(struct pw_syscall_exit *ctx)                                                               \
	{                                                                                                              \
		pw_on_opened(ctx->ret);                                                                                \
		return 0;                                                                                              \
	}

/* A path syscall's entry. */
#define PW_PATH_SYSCALL(tracepoint, op, dfd, name, target_dfd, target, mode)                                           \
	SEC("tracepoint/syscalls/" #tracepoint)                                                                        \
	int pw_##tracepoint(struct pw_syscall_enter *ctx)                                                              \
	{                                                                                                              \
		pw_on_path_syscall(op, dfd, name, target_dfd, target, mode);                                           \
		return 0;                                                                                              \
	}

PW_OPENED(sys_exit_open)
PW_OPENED(sys_exit_openat)
PW_OPENED(sys_exit_openat2)
PW_OPENED(sys_exit_creat)

PW_PATH_SYSCALL(sys_enter_unlink, PW_FILE_UNLINK, PW_AT_FDCWD, PW_NAME(0), 0, 0, 0)
PW_PATH_SYSCALL(sys_enter_rmdir, PW_FILE_UNLINK, PW_AT_FDCWD, PW_NAME(0), 0, 0, 0)
PW_PATH_SYSCALL(sys_enter_unlinkat, PW_FILE_UNLINK, PW_ARG(0), PW_NAME(1), 0, 0, 0)
PW_PATH_SYSCALL(sys_enter_rename, PW_FILE_RENAME, PW_AT_FDCWD, PW_NAME(0), PW_AT_FDCWD, PW_NAME(1), 0)
PW_PATH_SYSCALL(sys_enter_renameat, PW_FILE_RENAME, PW_ARG(0), PW_NAME(1), PW_ARG(2), PW_NAME(3), 0)
PW_PATH_SYSCALL(sys_enter_renameat2, PW_FILE_RENAME, PW_ARG(0), PW_NAME(1), PW_ARG(2), PW_NAME(3), 0)
PW_PATH_SYSCALL(sys_enter_link, PW_FILE_LINK, PW_AT_FDCWD, PW_NAME(0), PW_AT_FDCWD, PW_NAME(1), 0)
PW_PATH_SYSCALL(sys_enter_linkat, PW_FILE_LINK, PW_ARG(0), PW_NAME(1), PW_ARG(2), PW_NAME(3), 0)
PW_PATH_SYSCALL(sys_enter_symlink, PW_FILE_SYMLINK, 0, PW_NAME(0), PW_AT_FDCWD, PW_NAME(1), 0)
PW_PATH_SYSCALL(sys_enter_symlinkat, PW_FILE_SYMLINK, 0, PW_NAME(0), PW_ARG(1), PW_NAME(2), 0)
PW_PATH_SYSCALL(sys_enter_chmod, PW_FILE_CHMOD, PW_AT_FDCWD, PW_NAME(0), 0, 0, PW_ARG(1))
PW_PATH_SYSCALL(sys_enter_fchmodat, PW_FILE_CHMOD, PW_ARG(0), PW_NAME(1), 0, 0, PW_ARG(2))
PW_PATH_SYSCALL(sys_enter_fchmodat2, PW_FILE_CHMOD, PW_ARG(0), PW_NAME(1), 0, 0, PW_ARG(2))
PW_PATH_SYSCALL(sys_enter_chown, PW_FILE_CHOWN, PW_AT_FDCWD, PW_NAME(0), 0, 0, 0)
PW_PATH_SYSCALL(sys_enter_lchown, PW_FILE_CHOWN, PW_AT_FDCWD, PW_NAME(0), 0, 0, 0)
PW_PATH_SYSCALL(sys_enter_fchownat, PW_FILE_CHOWN, PW_ARG(0), PW_NAME(1), 0, 0, 0)
PW_PATH_SYSCALL(sys_enter_truncate, PW_FILE_TRUNCATE, PW_AT_FDCWD, PW_NAME(0), 0, 0, 0)

SEC("tracepoint/syscalls/sys_enter_setns")
int pw_sys_enter_setns(struct pw_syscall_enter *ctx)
{
	pw_on_breakout(PW_BREAKOUT_SETNS, PW_ARG(1), 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unshare")
int pw_sys_enter_unshare(struct pw_syscall_enter *ctx)
{
	pw_on_unshare(PW_ARG(0));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int pw_sys_enter_mount(struct pw_syscall_enter *ctx)
{
	pw_on_breakout(PW_BREAKOUT_MOUNT, PW_ARG(3), 0, PW_NAME(1), PW_NAME(2));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fsopen")
int pw_sys_enter_fsopen(struct pw_syscall_enter *ctx)
{
	pw_on_breakout(PW_BREAKOUT_MOUNT_API, 0, 0, 0, PW_NAME(0));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_move_mount")
int pw_sys_enter_move_mount(struct pw_syscall_enter *ctx)
{
	pw_on_breakout(PW_BREAKOUT_MOUNT_API, 0, 0, PW_NAME(3), 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_init_module")
int pw_sys_enter_init_module(struct pw_syscall_enter *ctx)
{
	pw_on_breakout(PW_BREAKOUT_MODULE, 0, 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_finit_module")
int pw_sys_enter_finit_module(struct pw_syscall_enter *ctx)
{
	pw_on_breakout(PW_BREAKOUT_MODULE, 0, 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_ptrace")
int pw_sys_enter_ptrace(struct pw_syscall_enter *ctx)
{
	pw_on_ptrace(PW_ARG(0), PW_ARG(1));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int pw_sys_enter_connect(struct pw_syscall_enter *ctx)
{
	pw_on_unix_connect((const void *)PW_ARG(1), PW_ARG(2));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
