/* Syscalls by which a pod's process reaches out of its container: other
 * namespaces, mounts, kernel modules, tracing another process, and the
 * container runtime's socket. Judged at entry, where the syscall still
 * runs (without kprobes or BPF LSM nothing can refuse it here); the kill
 * stops the process before it returns to its own code. */
#ifndef PODWALL_LIB_BREAKOUT_H
#define PODWALL_LIB_BREAKOUT_H

#include "file.h"

#define PW_PTRACE_ATTACH 16
#define PW_PTRACE_SEIZE	 0x4206

/* Reports a breakout attempt, killed first when the policy says so.
 * `path` and `detail` are user memory (0 for none). */
static __always_inline void pw_on_breakout(__u32 op, __u64 arg, __u32 target_pid, const char *path, const char *detail)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct pw_process_config *config = pw_file_config(task);

	if (!config)
		return;
	char comm[16] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	if (pw_is_runtime_init(task, comm, config))
		return;
	pw_process_count(PW_PCNT_BREAKOUTS);
	__u32 flags = 0;

	if (pw_kill_current(config->policy & PW_POLICY_KILL_BREAKOUT))
		flags |= PW_FILE_KILLED;
	struct pw_breakout_event *event = pw_process_reserve(event, PW_EVENT_BREAKOUT, sizeof(*event));

	if (!event)
		return;
	pw_read_process_id(&event->process, task);
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->op = op;
	event->flags = flags;
	event->arg = arg;
	event->target_pid = target_pid;
	__builtin_memcpy(event->comm, comm, sizeof(comm));
	if (path)
		bpf_probe_read_user_str(event->path, sizeof(event->path), path);
	if (detail)
		bpf_probe_read_user_str(event->detail, sizeof(event->detail), detail);
	bpf_ringbuf_submit(event, pw_process_submit_flags(1));
}

static __always_inline void pw_on_unshare(__u64 flags)
{
	if (flags & PW_BREAKOUT_UNSHARE_FLAGS)
		pw_on_breakout(PW_BREAKOUT_UNSHARE, flags, 0, 0, 0);
}

/* Attaching to another process: every other request needs an attach
 * first, or a child that asked (PTRACE_TRACEME, how a debugger starts its
 * program), which is not reported. */
static __always_inline void pw_on_ptrace(long request, long pid)
{
	if (request == PW_PTRACE_ATTACH || request == PW_PTRACE_SEIZE)
		pw_on_breakout(PW_BREAKOUT_PTRACE, (__u64)request, (__u32)pid, 0, 0);
}

/* connect() to a unix socket whose path a breakout rule names (the
 * container runtime's socket mounted into the pod). */
static __always_inline void pw_on_unix_connect(const void *address, long length)
{
	__u16 family = 0;

	if (length <= 2 || bpf_probe_read_user(&family, sizeof(family), address) || family != PW_AF_UNIX)
		return;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!pw_file_config(task))
		return;
	struct pw_path_scratch *room = pw_path_room();

	if (!room)
		return;
	const char *name = (const char *)address + 2;
	long read = bpf_probe_read_user_str(room->key.path, 108 /* sun_path */, name);

	if (read <= 1)
		return; /* abstract or empty */
	const struct pw_file_rule *rule = pw_file_rule_of(room, (__u32)read - 1);

	if (rule && (rule->flags & PW_FILE_RULE_BREAKOUT))
		pw_on_breakout(PW_BREAKOUT_RUNTIME_SOCKET, rule->id, 0, name, 0);
}

#endif
