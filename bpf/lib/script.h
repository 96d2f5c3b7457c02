/* Drop-and-execute of a `#!` script: at the exec tracepoint bprm->file is
 * the interpreter, the script's own file already let go, so the exec
 * remembers the script's name for the process and the judgement waits for
 * the interpreter's open of that name, where the file (its inode, and so
 * whether a pod's process wrote it) is known again: before the
 * interpreter reads a line of it. */
#ifndef PODWALL_LIB_SCRIPT_H
#define PODWALL_LIB_SCRIPT_H

#include <bpf/bpf_core_read.h>
#include "compat.h"
#include "file_maps.h"
#include "path.h"

static __always_inline __s64 *pw_scripts_open_count(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pw_scripts_open, &zero);
}

/* Whether any script waits for its interpreter's open (one array read). */
static __always_inline int pw_scripts_waiting(void)
{
	__s64 *count = pw_scripts_open_count();

	return count && *count > 0;
}

static __always_inline void pw_forget_script(__u32 tgid)
{
	__s64 *count = pw_scripts_open_count();

	if (bpf_map_delete_elem(&pw_script_execs, &tgid) == 0 && count)
		pw_add(count, -1);
}

/* The current process exec'd the script `filename_address` (the name as
 * given to execve): its last component is what the interpreter will open.
 * A global function, verified on its own (the exec program is near 5.10's
 * limit). */
__noinline int pw_remember_script(__u64 filename_address)
{
	struct pw_path_scratch *room = pw_path_room();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!room)
		return 0;
	struct pw_script_exec script = {.start_ns = BPF_CORE_READ(task, group_leader, start_time)};
	__u32 tgid = BPF_CORE_READ(task, tgid), start = 0;
	long length = bpf_probe_read_kernel_str(room->first, sizeof(room->first), (const char *)filename_address);

	if (length <= 1)
		return 0;
	/* Backwards from the last character to the last '/': a forward scan
	 * remembering the last '/' seen gave the verifier a state per
	 * (position, last '/') pair, past its million instructions. */
	for (__u32 i = 0; i < sizeof(room->first) - 1; i++) {
		if ((long)i > length - 2)
			break;
		__u32 at = (__u32)(length - 2 - i) & (sizeof(room->first) - 1);

		if (room->first[at] == '/') {
			start = at + 1;
			break;
		}
	}
	bpf_probe_read_kernel_str(script.name, sizeof(script.name), room->first + (start & (sizeof(room->first) - 1)));
	if (bpf_map_update_elem(&pw_script_execs, &tgid, &script, BPF_NOEXIST) == 0) {
		__s64 *count = pw_scripts_open_count();

		if (count)
			pw_add(count, 1);
	} else {
		bpf_map_update_elem(&pw_script_execs, &tgid, &script, BPF_EXIST);
	}
	return 0;
}

/* Whether `file`, just opened by the current process, is the script it
 * exec'd (forgotten once found). */
static __always_inline int pw_opened_own_script(struct task_struct *task, struct file *file)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct pw_script_exec *script = bpf_map_lookup_elem(&pw_script_execs, &tgid);

	if (!script)
		return 0;
	if (script->start_ns != BPF_CORE_READ(task, group_leader, start_time)) {
		pw_forget_script(tgid);
		return 0;
	}
	struct pw_file_name_key name = {};

	bpf_probe_read_kernel_str(name.name, sizeof(name.name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	for (int i = 0; i < sizeof(name.name) / sizeof(__u64); i++)
		if (((__u64 *)name.name)[i] != ((__u64 *)script->name)[i])
			return 0;
	pw_forget_script(tgid);
	return 1;
}

#endif
