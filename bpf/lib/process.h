/* Exec, fork and exit of processes in pods. A process is in a pod when its
 * cgroup descends from the pods' cgroup; a host process costs a few reads
 * and returns. At exec, what is known then (a shell with an inet
 * socket on its stdio or a relayed one, a denied name) is answered with
 * SIGKILL before the new program runs its first instruction. */
#ifndef PODWALL_LIB_PROCESS_H
#define PODWALL_LIB_PROCESS_H

#include <bpf/bpf_core_read.h>
#include "kernel_types.h"
#include "process_maps.h"
#include "process_task.h"
#include "path.h"
#include "relay.h"
#include "script.h"
#include "stdio.h"

/* The arguments as /proc/PID/cmdline has them, cut at PW_EXEC_ARGS_BYTES. */
static __always_inline void pw_read_args(struct pw_exec_event *event, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	__u64 length = end > start ? end - start : 0;

	if (length > PW_EXEC_ARGS_BYTES) {
		length = PW_EXEC_ARGS_BYTES;
		event->flags |= PW_EXEC_ARGS_TRUNCATED;
	}
	if (length && bpf_probe_read_user(event->args, length, (const void *)start) == 0) {
		event->args_len = length;
	} else if (length) {
		event->flags |= PW_EXEC_READ_ERROR;
	}
}

/* A program with no name left (a memfd, a deleted file: PW_EXEC_FILELESS)
 * or one a pod's process wrote (PW_EXEC_DROPPED). A global function: its
 * branches, inlined into pw_exec beside the relay's, took Linux 5.10's
 * verifier past its limit (E2BIG). */
__noinline __u32 pw_dropped_program(__u64 file_address)
{
	struct file *file = (struct file *)file_address;

	if (BPF_CORE_READ(file, f_inode, i_nlink) == 0)
		return PW_EXEC_FILELESS;
	struct pw_inode_key key = pw_inode_of(file);

	if (!bpf_map_lookup_elem(&pw_written_files, &key))
		return 0;
	struct pw_path_scratch *room = pw_path_room();

	if (!room)
		return PW_EXEC_DROPPED;
	/* The walk inlined: a third frame would take the stacks past 512 bytes. */
	__u64 walked =
		pw_walk_inline((__u64)BPF_CORE_READ(file, f_path.mnt), (__u64)BPF_CORE_READ(file, f_path.dentry));
	const struct pw_file_rule *rule = pw_file_rule_of(room, (__u32)walked);

	return PW_EXEC_DROPPED | (rule && (rule->flags & PW_FILE_RULE_NO_EXEC) ? PW_EXEC_NO_EXEC_DIR : 0);
}

/* The process exec'd in its pod: a runtime's name no longer makes it the runtime. */
static __always_inline void pw_mark_pod_program(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 start = BPF_CORE_READ(task, group_leader, start_time);

	bpf_map_update_elem(&pw_pod_programs, &tgid, &start, BPF_ANY);
}

static __always_inline void pw_on_exec(struct task_struct *task, struct linux_binprm *binprm)
{
	const struct pw_process_config *config = pw_watched_config(task);

	if (!config)
		return;
	pw_process_count(PW_PCNT_EXECS);

	/* The kill is decided before the event is reserved: a full ring loses
	 * the event (counted), never the response. */
	struct pw_stdio_fd stdio[PW_STDIO_FDS];
	/* Zeroed: on some kernels (6.1) bpf_get_current_comm() does not pad,
	 * and the name table is looked up by all 16 bytes. */
	char comm[16] = {};
	__u32 flags = pw_read_stdio(stdio, task) ? PW_EXEC_STDIO_INET : 0;

	bpf_get_current_comm(comm, sizeof(comm));
	__u32 class = pw_exec_class_of(comm);

	if ((class & PW_EXEC_SHELL) && !(flags & PW_EXEC_STDIO_INET) &&
	    pw_relayed_shell(stdio[0].kind, stdio[0].family))
		flags |= PW_EXEC_RELAYED;
	/* In the node's mount namespace it is the runtime exec'ing itself (a
	 * memfd copy of runc) on its way into the container. */
	if (!pw_in_host_mounts(task, config)) {
		pw_mark_pod_program(task);
		flags |= pw_dropped_program((__u64)BPF_CORE_READ(binprm, file));
		/* A `#!` script (or a binfmt_misc program): interp is the interpreter.
		 * Kept across the process's next execs: `#!/usr/bin/env sh` execs sh,
		 * which opens the script. */
		if (BPF_CORE_READ(binprm, interp) != BPF_CORE_READ(binprm, filename))
			pw_remember_script((__u64)BPF_CORE_READ(binprm, filename));
	}
	int kill =
		((class & PW_EXEC_SHELL) && (flags & (PW_EXEC_STDIO_INET | PW_EXEC_RELAYED)) &&
		 (config->policy & PW_POLICY_KILL_REVERSE_SHELL)) ||
		((class & PW_EXEC_DENIED) && (config->policy & PW_POLICY_KILL_DENIED)) ||
		((flags & (PW_EXEC_FILELESS | PW_EXEC_NO_EXEC_DIR)) && (config->policy & PW_POLICY_KILL_DROPPED_EXEC));

	if (pw_kill_current(kill))
		flags |= PW_EXEC_KILLED;
	__u64 decided = pw_forget(((__u64) class << 32) | flags);

	flags = (__u32)decided;
	class = (__u32)(decided >> 32);

	struct pw_exec_event *event = pw_process_reserve(event, PW_EVENT_EXEC, offsetof(struct pw_exec_event, stdio));

	if (!event)
		return;
	pw_read_process_id(&event->process, task);
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->euid = BPF_CORE_READ(task, cred, euid.val);
	event->flags = flags;
	event->exec_class = class;
	__builtin_memcpy(event->comm, comm, sizeof(comm));
	__builtin_memcpy(event->stdio, stdio, sizeof(stdio));
	if (bpf_probe_read_kernel_str(event->filename, sizeof(event->filename), BPF_CORE_READ(binprm, filename)) < 0)
		event->flags |= PW_EXEC_READ_ERROR;
	if (bpf_probe_read_kernel_str(event->interpreter, sizeof(event->interpreter), BPF_CORE_READ(binprm, interp)) <
	    0)
		event->flags |= PW_EXEC_READ_ERROR;
	pw_read_args(event, task);
	if (flags & PW_EXEC_RELAYED) {
		__u32 zero = 0;
		struct pw_relay_connection *relay = bpf_map_lookup_elem(&pw_relay_found, &zero);

		if (relay)
			event->relay = *relay;
	}
	if (flags & PW_EXEC_DROPPED) {
		struct pw_inode_key key = pw_inode_of(BPF_CORE_READ(binprm, file));
		struct pw_written_file *written = bpf_map_lookup_elem(&pw_written_files, &key);

		if (written)
			event->written = *written;
	}
	if (event->flags & PW_EXEC_READ_ERROR)
		pw_process_count(PW_PCNT_READ_ERRORS);
	bpf_ringbuf_submit(event, pw_process_submit_flags(
					  class || (flags & (PW_EXEC_KILLED | PW_EXEC_STDIO_INET | PW_EXEC_RELAYED |
							     PW_EXEC_FILELESS | PW_EXEC_DROPPED))));
}

/* dup2/dup3 returned `fd`: when a shell just made an inet socket its fd 0-2,
 * report it, and kill it when the reverse-shell switch is on (the signal is
 * taken on the way back to user space, before the shell reads a command). */
static __always_inline void pw_on_dup(long fd)
{
	if (fd < 0 || fd >= PW_STDIO_FDS)
		return;
	/* Not the _btf variant: Linux 5.10 lacks it; the CO-RE reads probe anyway. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct pw_process_config *config = pw_current_config(task);

	if (!config)
		return;
	/* Zeroed: on some kernels (6.1) bpf_get_current_comm() does not pad,
	 * and the name table is looked up by all 16 bytes. */
	char comm[16] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	__u32 class = pw_exec_class_of(comm);

	if (!(class & PW_EXEC_SHELL))
		return;
	struct fdtable *table = BPF_CORE_READ(task, files, fdt);
	struct pw_stdio_fd socket = {};

	if (!pw_read_stdio_fd(&socket, BPF_CORE_READ(table, fd), BPF_CORE_READ(table, max_fds), (int)fd))
		return;
	__u32 flags = 0;

	if (pw_kill_current(config->policy & PW_POLICY_KILL_REVERSE_SHELL))
		flags |= PW_EXEC_KILLED;
	struct pw_stdio_socket_event *event =
		pw_process_reserve(event, PW_EVENT_STDIO_SOCKET, offsetof(struct pw_stdio_socket_event, socket));

	if (!event)
		return;
	pw_read_process_id(&event->process, task);
	event->fd = (__u32)fd;
	event->flags = flags;
	event->exec_class = class;
	event->uid = (__u32)bpf_get_current_uid_gid();
	__builtin_memcpy(event->comm, comm, sizeof(comm));
	__builtin_memcpy(&event->socket, &socket, sizeof(socket));
	bpf_ringbuf_submit(event, pw_process_submit_flags(1));
}

/* A new process; new threads are not reported. */
static __always_inline void pw_on_fork(struct task_struct *child)
{
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid) || !pw_watched_config(child))
		return;
	pw_process_count(PW_PCNT_FORKS);
	__u32 parent = BPF_CORE_READ(child, real_parent, tgid);
	__u64 *parent_start = bpf_map_lookup_elem(&pw_pod_programs, &parent);

	if (parent_start && *parent_start == BPF_CORE_READ(child, real_parent, group_leader, start_time))
		pw_mark_pod_program(child);

	struct pw_fork_event *event = pw_process_reserve(event, PW_EVENT_FORK, sizeof(*event));

	if (!event)
		return;
	pw_read_process_id(&event->process, child);
	BPF_CORE_READ_STR_INTO(&event->comm, child, comm);
	bpf_ringbuf_submit(event, pw_process_submit_flags(0));
}

/* A process ends when its last thread does. */
static __always_inline void pw_on_exit(struct task_struct *task)
{
	if (BPF_CORE_READ(task, signal, live.counter) != 0 || !pw_watched_config(task))
		return;
	pw_process_count(PW_PCNT_EXITS);
	__u32 tgid = BPF_CORE_READ(task, tgid);

	bpf_map_delete_elem(&pw_pod_programs, &tgid);
	if (pw_scripts_waiting())
		pw_forget_script(tgid);

	struct pw_exit_event *event = pw_process_reserve(event, PW_EVENT_EXIT, sizeof(*event));

	if (!event)
		return;
	pw_read_process_id(&event->process, task);
	/* The last thread's; for the leader's own exit code, the group's. */
	event->exit_code = BPF_CORE_READ(task, exit_code);
	BPF_CORE_READ_STR_INTO(&event->comm, task, comm);
	bpf_ringbuf_submit(event, pw_process_submit_flags(0));
}

#endif
