/* The few kernel types the process programs read, declared by hand with
 * preserve_access_index: libbpf relocates every field access against the
 * running kernel's BTF (CO-RE), so one object reads the right offsets on
 * 5.10 and on 6.18 without vmlinux.h (3 MB, tied to one kernel). Only the
 * fields read are declared; their order and the structs' sizes do not
 * matter, their names and types do. */
#ifndef PODWALL_LIB_KERNEL_TYPES_H
#define PODWALL_LIB_KERNEL_TYPES_H

#include <linux/types.h>

#define PW_KERNEL_TYPE __attribute__((preserve_access_index))

struct pid_namespace;

struct upid {
	int nr;
	struct pid_namespace *ns;
} PW_KERNEL_TYPE;

struct pid {
	unsigned int level;
	struct upid numbers[1];
} PW_KERNEL_TYPE;

typedef struct {
	__u32 val;
} pw_kuid_t;

struct cred {
	pw_kuid_t uid;
	pw_kuid_t euid;
} PW_KERNEL_TYPE;

struct super_block {
	__u32 s_dev;
} PW_KERNEL_TYPE;

/* i_nlink is in an anonymous union in the kernel; CO-RE finds it there. */
struct inode {
	__u16 i_mode;
	unsigned long i_ino;
	__u32 i_rdev;
	unsigned int i_nlink;
	struct super_block *i_sb;
} PW_KERNEL_TYPE;

/* len is in an anonymous struct in an anonymous union. */
struct qstr {
	__u32 len;
	const unsigned char *name;
} PW_KERNEL_TYPE;

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
} PW_KERNEL_TYPE;

struct vfsmount {
	struct dentry *mnt_root;
} PW_KERNEL_TYPE;

struct ns_common {
	unsigned int inum;
} PW_KERNEL_TYPE;

struct mnt_namespace {
	struct ns_common ns;
} PW_KERNEL_TYPE;

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} PW_KERNEL_TYPE;

/* The kernel's mount around a vfsmount (fs/mount.h, not a public header). */
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	struct mnt_namespace *mnt_ns; /* NULL or an error pointer for the kernel's internal mounts */
} PW_KERNEL_TYPE;

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} PW_KERNEL_TYPE;

struct fs_struct {
	struct path root;
	struct path pwd;
} PW_KERNEL_TYPE;

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	unsigned int f_mode;
	void *private_data;
} PW_KERNEL_TYPE;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} PW_KERNEL_TYPE;

struct files_struct {
	struct fdtable *fdt;
} PW_KERNEL_TYPE;

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct {
		__u8 u6_addr8[16];
	} skc_v6_daddr, skc_v6_rcv_saddr;
} PW_KERNEL_TYPE;

struct socket;

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	__u16 sk_type;
	struct socket *sk_socket;
} PW_KERNEL_TYPE;

struct socket {
	short type;
	struct sock *sk;
	struct file *file;
} PW_KERNEL_TYPE;

struct unix_sock {
	struct sock *peer;
} PW_KERNEL_TYPE;

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
} PW_KERNEL_TYPE;

typedef struct {
	int counter;
} pw_atomic_t;

struct signal_struct {
	pw_atomic_t live;
} PW_KERNEL_TYPE;

struct kernfs_node {
	__u64 id;
} PW_KERNEL_TYPE;

/* Linux before 6.0 keeps the ancestors' ids, later ones the ancestors. */
struct cgroup {
	int level;
	struct kernfs_node *kn;
	__u64 ancestor_ids[1];
	struct cgroup *ancestors[1];
} PW_KERNEL_TYPE;

struct css_set {
	struct cgroup *dfl_cgrp;
} PW_KERNEL_TYPE;

struct task_struct {
	int pid;
	int tgid;
	__u64 start_time;
	int exit_code;
	char comm[16];
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	struct cred *cred;
	struct files_struct *files;
	struct fs_struct *fs;
	struct nsproxy *nsproxy;
	struct mm_struct *mm;
	struct signal_struct *signal;
	struct css_set *cgroups;
} PW_KERNEL_TYPE;

struct linux_binprm {
	struct file *file;
	const char *filename;
	const char *interp;
} PW_KERNEL_TYPE;

#endif
