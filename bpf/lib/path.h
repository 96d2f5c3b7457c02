/* Paths as a pod's process sees them, built in the kernel: the walk from a
 * dentry up to the process's root (crossing mounts), and a name given to a
 * syscall made absolute against the cwd or a directory fd. bpf_d_path()
 * is for LSM and fentry programs only, which this kernel refuses. */
#ifndef PODWALL_LIB_PATH_H
#define PODWALL_LIB_PATH_H

#include <bpf/bpf_core_read.h>
#include "bounds.h"
#include "kernel_types.h"
#include "file_maps.h"
#include "syscall.h"

/* One CPU's room to build paths (too big for the stack). The walk writes a
 * path backwards, ending at walk[PW_WALK_END]; copies at variable offsets
 * stay inside because each buffer has a path's length of slack after it. */
#define PW_WALK_END  (2 * PW_FILE_PATH_BYTES - 1)
#define PW_PATH_MASK (2 * PW_FILE_PATH_BYTES - 1)
struct pw_path_scratch {
	struct pw_path_key key; /* the path from key.path[0], for the prefix table */
	char slack[PW_FILE_PATH_BYTES];
	char first[PW_FILE_PATH_BYTES]; /* a two-name syscall's first path */
	char walk[3 * PW_FILE_PATH_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_path_scratch);
} pw_path_scratch SEC(".maps");

static __always_inline struct pw_path_scratch *pw_path_room(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pw_path_scratch, &zero);
}

static __always_inline struct mount *pw_real_mount(struct vfsmount *vfsmount)
{
	return (struct mount *)((void *)vfsmount - bpf_core_field_offset(struct mount, mnt));
}

/* Writes the path of `dentry` on `vfsmount` as the current task's root sees it into
 * this CPU's room->walk, ending at PW_WALK_END, and copies it to
 * room->key.path (pw_walk: the length in the low half of its result, the
 * flags in the high half; a global function, so the verifier checks its
 * loop once: inlined into pw_exec it took Linux 5.10's verifier past its
 * limit, E2BIG).
 * Returns its length; sets PW_FILE_PATH_CUT when it did not fit (the
 * leading components are lost). A file outside the root (reached through
 * /proc/PID/root or an fd from elsewhere) has its path from the mount
 * namespace's root, and PW_FILE_OUTSIDE_ROOT (not for the kernel's
 * internal mounts: a pipe or memfd reopened through /proc/self/fd). */
static __always_inline __u64 pw_walk_inline(__u64 vfsmount_address, __u64 dentry_address)
{
	struct pw_path_scratch *room = pw_path_room();
	/* Always the current task: a tp_btf program's task pointer is no
	 * scalar, which is all a global function may be given on 5.10. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct vfsmount *vfsmount = (struct vfsmount *)vfsmount_address;
	struct dentry *dentry = (struct dentry *)dentry_address;
	__u64 flags = 0;

	if (!room)
		return (__u64)PW_FILE_PATH_CUT << 32;
	struct dentry *root_dentry = BPF_CORE_READ(task, fs, root.dentry);
	struct vfsmount *root_mount = BPF_CORE_READ(task, fs, root.mnt);
	struct mount *mount = pw_real_mount(vfsmount);
	__u64 pos = PW_WALK_END;
	int reached = 0;

	room->walk[PW_WALK_END] = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < PW_FILE_PATH_DEPTH; i++) {
		if (dentry == root_dentry && vfsmount == root_mount) {
			reached = 1;
			break;
		}
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

		if (dentry == BPF_CORE_READ(vfsmount, mnt_root) || dentry == parent) {
			struct mount *up = BPF_CORE_READ(mount, mnt_parent);

			if (!up || up == mount) {
				unsigned long namespace = (unsigned long)BPF_CORE_READ(mount, mnt_ns);

				if (namespace && namespace < (unsigned long)-4095)
					flags |= PW_FILE_OUTSIDE_ROOT;
				reached = 1; /* the namespace's root */
				break;
			}
			dentry = BPF_CORE_READ(mount, mnt_mountpoint);
			mount = up;
			vfsmount = (struct vfsmount *)((void *)up + bpf_core_field_offset(struct mount, mnt));
			continue;
		}
		__u64 length = BPF_CORE_READ(dentry, d_name.len);

		/* The component, its slash, and the path's first byte at or past PW_FILE_PATH_BYTES. */
		if (length >= PW_FILE_PATH_BYTES || pos < PW_FILE_PATH_BYTES + length + 1) {
			flags |= PW_FILE_PATH_CUT;
			break;
		}
		pos -= length;
		pw_mask(pos, PW_PATH_MASK);
		pw_mask(length, PW_FILE_PATH_BYTES - 1);
		bpf_probe_read_kernel(&room->walk[pos], length, BPF_CORE_READ(dentry, d_name.name));
		pos -= 1;
		pw_mask(pos, PW_PATH_MASK);
		room->walk[pos] = '/';
		dentry = parent;
	}
	if (!reached)
		flags |= PW_FILE_PATH_CUT;
	if (pos == PW_WALK_END) {
		pos -= 1;
		room->walk[PW_WALK_END - 1] = '/';
	}
	pw_mask(pos, PW_PATH_MASK);
	bpf_probe_read_kernel(room->key.path, PW_FILE_PATH_BYTES, &room->walk[pos]);
	return (PW_WALK_END - pos) | (flags << 32);
}

/* The walk, verified once as a global function. */
__noinline __u64 pw_walk(__u64 vfsmount_address, __u64 dentry_address)
{
	return pw_walk_inline(vfsmount_address, dentry_address);
}

static __always_inline __u32 pw_walk_path(struct vfsmount *vfsmount, struct dentry *dentry, __u32 *flags)
{
	__u64 walked = pw_walk((__u64)vfsmount, (__u64)dentry);

	*flags |= (__u32)(walked >> 32);
	return (__u32)walked;
}

/* The path of an open file. */
static __always_inline __u32 pw_file_path(struct file *file, __u32 *flags)
{
	return pw_walk_path(BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry), flags);
}

/* The open file behind `fd` of the current task, or 0. */
static __always_inline struct file *pw_fd_file(struct task_struct *task, long fd)
{
	struct fdtable *table = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(table, fd);
	struct file *file = 0;

	if (fd < 0 || !fds || (unsigned long)fd >= BPF_CORE_READ(table, max_fds))
		return 0;
	bpf_core_read(&file, sizeof(file), &fds[fd]);
	return file;
}

/* Whether this CPU's room->key.path (`length` bytes) has no "//" and no
 * "." or ".." component, which the prefix table cannot judge: such a name
 * goes to the agent (PW_FILE_UNRESOLVED). A global function: the verifier
 * checks its loop once, not once per caller and path. */
__noinline int pw_path_is_plain(__u32 length)
{
	struct pw_path_scratch *room = pw_path_room();

	if (!room)
		return 0;
#pragma clang loop unroll(disable)
	for (__u64 i = 0; i < PW_FILE_PATH_BYTES - 1; i++) {
		if (i + 1 >= length)
			break;
		/* Three bytes from i, inside the key's path and its slack. */
		__u64 at = i;

		pw_mask(at, PW_FILE_PATH_BYTES - 1);
		if (room->key.path[at] != '/')
			continue;
		char next = room->key.path[at + 1];

		if (next == '/')
			return 0;
		if (next != '.')
			continue;
		char after = room->key.path[at + 2];

		if (i + 2 >= length || after == '/')
			return 0;
		if (after == '.' && (i + 3 >= length || room->key.path[at + 3] == '/'))
			return 0;
	}
	return 1;
}

/* The name a syscall was given, absolute in room->key.path: as it is when
 * it starts with '/', else after the path of `dfd` (the cwd for
 * PW_AT_FDCWD); as given, flagged PW_FILE_UNRESOLVED, when `dfd` is not an
 * open file. Returns its length (capped at the buffer). `dfd` is an int:
 * the register's upper half is not the syscall's to set. */
static __always_inline __u32 pw_syscall_path(struct pw_path_scratch *room, struct task_struct *task, int dfd,
					     const char *name, __u32 *flags)
{
	char first = 0;

	bpf_probe_read_user(&first, 1, name);
	if (first == '/') {
		long length = bpf_probe_read_user_str(room->key.path, PW_FILE_PATH_BYTES, name);

		if (length <= 0)
			return 0;
		if (length == PW_FILE_PATH_BYTES)
			*flags |= PW_FILE_PATH_CUT;
		return (__u32)length - 1;
	}
	__u64 length;

	if (dfd == PW_AT_FDCWD) {
		length = pw_walk_path(BPF_CORE_READ(task, fs, pwd.mnt), BPF_CORE_READ(task, fs, pwd.dentry), flags);
	} else {
		struct file *directory = pw_fd_file(task, dfd);

		if (!directory) {
			long given = bpf_probe_read_user_str(room->key.path, PW_FILE_PATH_BYTES, name);

			*flags |= PW_FILE_UNRESOLVED;
			return given > 0 ? (__u32)given - 1 : 0;
		}
		length = pw_file_path(directory, flags);
	}
	if (length > 1 && length < PW_FILE_PATH_BYTES - 1) {
		pw_mask(length, PW_FILE_PATH_BYTES - 1);
		room->key.path[length++] = '/';
	}
	pw_mask(length, PW_FILE_PATH_BYTES - 1);
	long added = bpf_probe_read_user_str(&room->key.path[length], PW_FILE_PATH_BYTES, name);

	if (added <= 0)
		return length;
	length += (__u32)added - 1;
	if (length >= PW_FILE_PATH_BYTES) {
		*flags |= PW_FILE_PATH_CUT;
		length = PW_FILE_PATH_BYTES - 1;
	}
	room->key.path[PW_FILE_PATH_BYTES - 1] = 0;
	return length;
}

/* The longest rule that `room->key.path` (`length` bytes) starts with. */
static __always_inline const struct pw_file_rule *pw_file_rule_of(struct pw_path_scratch *room, __u32 length)
{
	room->key.prefixlen = (length < PW_FILE_PATH_BYTES ? length : PW_FILE_PATH_BYTES) * 8;
	return bpf_map_lookup_elem(&pw_file_rules, &room->key);
}

#endif
