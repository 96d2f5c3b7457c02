// SPDX-License-Identifier: GPL-2.0
/* Process pillar: exec, fork and exit in the pods' cgroups, from BTF
 * tracepoints (no kprobes: not every kernel has them). Logic in lib/. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lib/process.h"
#include "lib/syscall.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pw_exec, struct task_struct *task, int old_pid, struct linux_binprm *binprm)
{
	pw_on_exec(task, binprm);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pw_fork, struct task_struct *parent, struct task_struct *child)
{
	pw_on_fork(child);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pw_exit, struct task_struct *task)
{
	pw_on_exit(task);
	return 0;
}

/* The exit of dup2/dup3 (syscall tracepoints; tracefs must be mounted). */

SEC("tracepoint/syscalls/sys_exit_dup2")
int pw_dup2(struct pw_syscall_exit *ctx)
{
	pw_on_dup(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_dup3")
int pw_dup3(struct pw_syscall_exit *ctx)
{
	pw_on_dup(ctx->ret);
	return 0;
}

/* The entry of connect(): a relay of a shell is killed here (lib/relay.h). */
SEC("tracepoint/syscalls/sys_enter_connect")
int pw_connect_relay(struct pw_syscall_enter *ctx)
{
	pw_on_connect(ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
