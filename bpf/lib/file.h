/* Files in pods: opens for writing and of sensitive names judged at the
 * open's exit by the path the kernel resolved; unlink, rename, link,
 * chmod, chown and truncate at their entry by the name given. Only paths
 * under a rule of the prefix table leave the kernel. */
#ifndef PODWALL_LIB_FILE_H
#define PODWALL_LIB_FILE_H

#include <bpf/bpf_core_read.h>
#include "path.h"
#include "process_task.h"
#include "script.h"
#include "stdio.h"

#define PW_FMODE_WRITE	       0x2
#define PW_FILE_REPORTED_RULES (PW_FILE_RULE_WRITE | PW_FILE_RULE_BREAKOUT | PW_FILE_RULE_KILL)

/* The config when the current task is a pod's and file events are on. */
static __always_inline const struct pw_process_config *pw_file_config(struct task_struct *task)
{
	const struct pw_process_config *config = pw_current_config(task);

	return config && (config->policy & PW_POLICY_WATCH_FILES) ? config : 0;
}

/* A container runtime setting up the container: a process that has not
 * exec'd in the pod, named as a runtime's init or still in the node's mount
 * namespace (runc 1.1's `runc init` is plain "exe" when it bind-mounts its
 * own binary, already in the container's cgroup on cgroup v2 nodes). Its
 * mounts, namespaces and writes are the container's making, not an attack;
 * a pod's process that broke into the node's mounts has exec'd in the pod. */
static __always_inline int pw_is_runtime_init(struct task_struct *task, const char comm[16],
					      const struct pw_process_config *config)
{
	if (!(pw_exec_class_of(comm) & PW_EXEC_RUNTIME) && !pw_in_host_mounts(task, config))
		return 0;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 *start = bpf_map_lookup_elem(&pw_pod_programs, &tgid);

	return !start || *start != BPF_CORE_READ(task, group_leader, start_time);
}

/* Whether a write matched by `rule` is killed now. */
static __always_inline int pw_file_kill(const struct pw_file_rule *rule, const struct pw_process_config *config)
{
	return (rule->flags & PW_FILE_RULE_KILL) ||
	       ((rule->flags & PW_FILE_RULE_BREAKOUT) && (config->policy & PW_POLICY_KILL_BREAKOUT));
}

/* Reports a file operation on room->key.path (and `target`, 0 for none);
 * kills first when the rule says so. */
static __always_inline void pw_report_file(struct task_struct *task, const struct pw_process_config *config, __u16 op,
					   const struct pw_file_rule *rule, __u32 flags, __u32 mode, __u64 inode,
					   const char *path, const char *target)
{
	char comm[16] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	if (pw_is_runtime_init(task, comm, config))
		return;
	pw_process_count(PW_PCNT_FILE_EVENTS);
	int kill =
		op == PW_FILE_SCRIPT
			? rule && (rule->flags & PW_FILE_RULE_NO_EXEC) && (config->policy & PW_POLICY_KILL_DROPPED_EXEC)
			: rule && (op != PW_FILE_READ || (flags & PW_FILE_OUTSIDE_ROOT)) && pw_file_kill(rule, config);

	if (pw_kill_current(kill))
		flags |= PW_FILE_KILLED;
	struct pw_file_event *event = pw_process_reserve(event, PW_EVENT_FILE, offsetof(struct pw_file_event, path));

	if (!event)
		return;
	pw_read_process_id(&event->process, task);
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->op = op;
	event->flags = flags;
	event->rule_flags = rule ? rule->flags : 0;
	event->rule_id = rule ? rule->id : 0;
	event->mode = mode;
	event->inode = inode;
	__builtin_memcpy(event->comm, comm, sizeof(comm));
	bpf_probe_read_kernel(event->path, sizeof(event->path), path);
	event->path[PW_FILE_PATH_BYTES - 1] = 0;
	if (target) {
		bpf_probe_read_kernel(event->target, sizeof(event->target), target);
		event->target[PW_FILE_PATH_BYTES - 1] = 0;
	} else {
		event->target[0] = 0;
	}
	bpf_ringbuf_submit(event, pw_process_submit_flags(1));
}

/* Remembers a regular file a pod's process opened for writing: an exec
 * of it later is a drop-and-execute. */
static __always_inline void pw_remember_written(struct task_struct *task, struct file *file)
{
	struct pw_inode_key key = pw_inode_of(file);
	struct pw_written_file written = {
		.written_ns = bpf_ktime_get_ns(),
		.tgid = BPF_CORE_READ(task, tgid),
		.cgroup_id = pw_cgroup_id(pw_task_cgroup(task)),
	};

	bpf_get_current_comm(written.comm, sizeof(written.comm));
	bpf_map_update_elem(&pw_written_files, &key, &written, BPF_ANY);
}

/* What the name table says of the file's last component (0: nothing). */
static __always_inline __u32 pw_name_flags(struct dentry *dentry)
{
	struct pw_file_name_key key = {};

	bpf_probe_read_kernel_str(key.name, sizeof(key.name), BPF_CORE_READ(dentry, d_name.name));
	__u32 *flags = bpf_map_lookup_elem(&pw_file_names, &key);

	return flags ? *flags : 0;
}

/* The interpreter of a `#!` script opened it: one a pod's process wrote is a
 * drop-and-execute, killed here under a no-exec rule (the kill is taken
 * on the way back to user space, before the interpreter reads a line). */
static __always_inline void pw_judge_script(struct task_struct *task, const struct pw_process_config *config,
					    struct file *file)
{
	struct pw_inode_key key = pw_inode_of(file);

	if (!bpf_map_lookup_elem(&pw_written_files, &key))
		return;
	struct pw_path_scratch *room = pw_path_room();

	if (!room)
		return;
	__u32 flags = 0;
	__u32 length = pw_file_path(file, &flags);

	pw_report_file(task, config, PW_FILE_SCRIPT, pw_file_rule_of(room, length), flags & PW_FILE_PATH_CUT, 0,
		       key.inode, room->key.path, 0);
}

/* An open (open, openat, openat2, creat) returned `fd`. */
static __always_inline void pw_on_opened(long fd)
{
	if (fd < 0)
		return;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct pw_process_config *config = pw_file_config(task);

	if (!config)
		return;
	struct file *file = pw_fd_file(task, fd);

	if (!file)
		return;
	int writes = BPF_CORE_READ(file, f_mode) & PW_FMODE_WRITE;

	if (!writes && pw_scripts_waiting() && pw_opened_own_script(task, file)) {
		pw_judge_script(task, config, file);
		return;
	}

	/* Most opens are reads of unwatched names: their name is all they
	 * cost (each kernel read is a helper call, tens of ns). */
	__u32 named = pw_name_flags(BPF_CORE_READ(file, f_path.dentry));

	if (!writes && !(named & PW_FILE_RULE_READ))
		return;
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u16 type = BPF_CORE_READ(inode, i_mode) & PW_S_IFMT;

	if (writes && type == PW_S_IFREG)
		pw_remember_written(task, file);
	struct pw_path_scratch *room = pw_path_room();

	if (!room)
		return;
	__u32 flags = 0;
	__u32 length = pw_file_path(file, &flags);
	const struct pw_file_rule *rule = pw_file_rule_of(room, length);
	struct pw_file_rule breakout = {.flags = PW_FILE_RULE_WRITE | PW_FILE_RULE_BREAKOUT,
					.id = PW_FILE_RULE_BY_NAME};
	__u32 wanted = writes ? PW_FILE_REPORTED_RULES : PW_FILE_RULE_READ;

	if ((writes && (named & PW_FILE_RULE_BREAKOUT)) ||
	    ((flags & PW_FILE_OUTSIDE_ROOT) && (type == PW_S_IFREG || type == PW_S_IFDIR))) {
		rule = &breakout;
		wanted = PW_FILE_RULE_BREAKOUT;
	} else {
		flags &= ~PW_FILE_OUTSIDE_ROOT;
	}

	if (!(rule && (rule->flags & wanted)) && !(writes && (flags & PW_FILE_PATH_CUT)))
		return;
	pw_report_file(task, config, writes ? PW_FILE_OPEN : PW_FILE_READ, rule, flags, BPF_CORE_READ(file, f_flags),
		       BPF_CORE_READ(inode, i_ino), room->key.path, 0);
}

/* The rule for a name given to a path syscall (in room->key.path after the
 * call), or 0; `*report` is set when the name must leave the kernel. */
static __always_inline const struct pw_file_rule *pw_judge_name(struct pw_path_scratch *room, struct task_struct *task,
								int dfd, const char *name, __u32 *flags, int *report)
{
	__u32 length = pw_syscall_path(room, task, dfd, name, flags);

	if (!(*flags & PW_FILE_UNRESOLVED) && !pw_path_is_plain(length))
		*flags |= PW_FILE_UNRESOLVED;
	const struct pw_file_rule *rule = pw_file_rule_of(room, length);

	if ((rule && (rule->flags & PW_FILE_REPORTED_RULES)) || (*flags & (PW_FILE_UNRESOLVED | PW_FILE_PATH_CUT)))
		*report = 1;
	return rule;
}

/* A path syscall's entry: `name` (relative to `dfd`) and, for rename and
 * link, `target` (relative to `target_dfd`); symlink's `name` is what the
 * new link points to, reported but not judged. */
static __always_inline void pw_on_path_syscall(__u16 op, int dfd, const char *name, int target_dfd, const char *target,
					       __u32 mode)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct pw_process_config *config = pw_file_config(task);

	if (!config)
		return;
	struct pw_path_scratch *room = pw_path_room();

	if (!room)
		return;
	__u32 flags = 0;
	int report = 0;
	const struct pw_file_rule *rule = 0;

	if (op == PW_FILE_SYMLINK) {
		bpf_probe_read_user_str(room->first, sizeof(room->first), name);
	} else {
		rule = pw_judge_name(room, task, dfd, name, &flags, &report);
		bpf_probe_read_kernel(room->first, sizeof(room->first), room->key.path);
	}
	if (target) {
		const struct pw_file_rule *target_rule = pw_judge_name(room, task, target_dfd, target, &flags, &report);

		if (target_rule && (!rule || !(rule->flags & PW_FILE_REPORTED_RULES)))
			rule = target_rule;
	}
	if (report)
		pw_report_file(task, config, op, rule, flags, mode, 0, room->first, target ? room->key.path : 0);
}

#endif
