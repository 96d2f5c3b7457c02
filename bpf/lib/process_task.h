/* What every process program needs of the current task: whether it is in
 * a pod, who it is, and a record on the process ring to report it. */
#ifndef PODWALL_LIB_PROCESS_TASK_H
#define PODWALL_LIB_PROCESS_TASK_H

#include <bpf/bpf_core_read.h>
#include "kernel_types.h"
#include "process_maps.h"

/* Reserves `*event` (a record that starts with a header) on the process
 * ring, keeps its type in BTF (records live only in the ring, so clang would
 * leave it out), clears its first `clear` bytes and stamps its header; NULL,
 * counted, when the ring is full. */
#define pw_process_reserve(event, event_type, clear)                                                                   \
	({                                                                                                             \
		__typeof__(event) pw_record = bpf_ringbuf_reserve(&pw_proc_events, sizeof(*event), 0);                 \
		if (!pw_record) {                                                                                      \
			pw_process_count(PW_PCNT_RINGBUF_DROPS);                                                       \
		} else {                                                                                               \
			asm volatile("" : : "r"(__builtin_btf_type_id(*pw_record, 0)));                                \
			__builtin_memset(pw_record, 0, (clear));                                                       \
			pw_record->header.type = (event_type);                                                         \
			pw_record->header.size = sizeof(*pw_record);                                                   \
			pw_record->header.timestamp_ns = bpf_ktime_get_ns();                                           \
		}                                                                                                      \
		pw_record;                                                                                             \
	})

/* The task's cgroup v2 cgroup, read with CO-RE: tracing programs may call
 * bpf_get_current_ancestor_cgroup_id() only from Linux 6.x on. */
static __always_inline struct cgroup *pw_task_cgroup(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp);
}

static __always_inline __u64 pw_cgroup_id(struct cgroup *cgroup)
{
	return BPF_CORE_READ(cgroup, kn, id);
}

/* The id of the task's cgroup's ancestor at `level` (its own at its level). */
static __always_inline __u64 pw_ancestor_cgroup_id(struct cgroup *cgroup, __u32 level)
{
	if (!cgroup || level > (__u32)BPF_CORE_READ(cgroup, level))
		return 0;
	level &= 63; /* bounds the index for the verifier; cgroups nest far less */
	if (bpf_core_field_exists(cgroup->ancestor_ids)) {
		__u64 id = 0;

		bpf_core_read(&id, sizeof(id), &cgroup->ancestor_ids[level]);
		return id;
	}
	struct cgroup *ancestor = 0;

	bpf_core_read(&ancestor, sizeof(ancestor), &cgroup->ancestors[level]);
	return pw_cgroup_id(ancestor);
}

/* The config when `task` is in a pod (its cgroup descends from the pods'
 * cgroup), else 0: a host process pays a few reads and returns. */
static __always_inline const struct pw_process_config *pw_watched_config(struct task_struct *task)
{
	__u32 zero = 0;
	const struct pw_process_config *config = bpf_map_lookup_elem(&pw_proc_config, &zero);

	if (!config || !config->pods_cgroup_id)
		return 0;
	if (pw_ancestor_cgroup_id(pw_task_cgroup(task), config->pods_cgroup_level) != config->pods_cgroup_id)
		return 0;
	return config;
}

/* pw_watched_config() for the current task, remembered per cgroup: what
 * a program pays on every syscall of every process is a helper call and a
 * hash lookup (measured on openat: BENCHMARKS.md, "File pillar costs"). */
static __always_inline const struct pw_process_config *pw_current_config(struct task_struct *task)
{
	__u32 zero = 0;
	const struct pw_process_config *config = bpf_map_lookup_elem(&pw_proc_config, &zero);

	if (!config || !config->pods_cgroup_id)
		return 0;
	__u64 cgroup = bpf_get_current_cgroup_id();
	struct pw_cgroup_verdict *known = bpf_map_lookup_elem(&pw_cgroup_verdicts, &cgroup);

	if (known && known->pods_cgroup_id == config->pods_cgroup_id)
		return known->watched ? config : 0;
	struct pw_cgroup_verdict verdict = {
		.pods_cgroup_id = config->pods_cgroup_id,
		.watched = pw_ancestor_cgroup_id(pw_task_cgroup(task), config->pods_cgroup_level) ==
			   config->pods_cgroup_id,
	};

	bpf_map_update_elem(&pw_cgroup_verdicts, &cgroup, &verdict, BPF_ANY);
	return verdict.watched ? config : 0;
}

/* Whether `task` runs in the node's own mount namespace (the runtime
 * before it enters the container's). */
static __always_inline int pw_in_host_mounts(struct task_struct *task, const struct pw_process_config *config)
{
	unsigned int mounts = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);

	return mounts && (mounts == config->host_mnt_ns || mounts == config->agent_mnt_ns);
}

/* The pid as the process's own pid namespace numbers it. */
static __always_inline __u32 pw_namespace_pid(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	/* Pid namespaces nest at most 32 deep. */
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
	return upid.nr;
}

static __always_inline void pw_read_process_id(struct pw_process_id *id, struct task_struct *task)
{
	id->pid = BPF_CORE_READ(task, pid);
	id->tgid = BPF_CORE_READ(task, tgid);
	id->ns_pid = pw_namespace_pid(task);
	id->ppid = BPF_CORE_READ(task, real_parent, tgid);
	id->cgroup_id = pw_cgroup_id(pw_task_cgroup(task));
	id->start_ns = BPF_CORE_READ(task, group_leader, start_time);
}

/* What the exec policy's name table calls a program name (a comm, zero-padded). */
static __always_inline __u32 pw_exec_class_of(const char comm[16])
{
	struct pw_exec_name_key key;

	__builtin_memcpy(key.comm, comm, 16);
	__u32 *class = bpf_map_lookup_elem(&pw_exec_names, &key);

	return class ? *class : 0;
}

#endif
