/* What a process's fds 0-2 are at exec: the evidence of a reverse shell
 * is there (a socket, or a pipe or pty whose other end is one). */
#ifndef PODWALL_LIB_STDIO_H
#define PODWALL_LIB_STDIO_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "kernel_types.h"
#include "../podwall_abi.h"

#define PW_S_IFMT   0170000
#define PW_S_IFSOCK 0140000
#define PW_S_IFREG  0100000
#define PW_S_IFDIR  0040000
#define PW_S_IFCHR  0020000
#define PW_S_IFIFO  0010000

#define PW_AF_UNIX  1
#define PW_AF_INET  2
#define PW_AF_INET6 10

/* Character devices that are terminals: /dev/tty* and consoles (4, 5),
 * and pseudo-terminal slaves (136-143). The kernel's dev_t is major << 20. */
static __always_inline int pw_is_tty(__u32 rdev)
{
	__u32 major = rdev >> 20;

	return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

static __always_inline void pw_read_inet(struct pw_stdio_fd *out, struct sock *sk)
{
	out->protocol = (__u8)BPF_CORE_READ(sk, sk_protocol);
	out->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	out->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (out->family == PW_AF_INET) {
		__be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		/* IPv4-mapped, as everywhere in podwall. */
		out->local_addr[10] = out->local_addr[11] = 0xff;
		out->remote_addr[10] = out->remote_addr[11] = 0xff;
		__builtin_memcpy(&out->local_addr[12], &local, 4);
		__builtin_memcpy(&out->remote_addr[12], &remote, 4);
	} else {
		BPF_CORE_READ_INTO(&out->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&out->remote_addr, sk, __sk_common.skc_v6_daddr);
	}
}

static __always_inline void pw_read_socket(struct pw_stdio_fd *out, struct file *file)
{
	struct socket *socket = BPF_CORE_READ(file, private_data);
	struct sock *sk = BPF_CORE_READ(socket, sk);

	if (!sk)
		return;
	out->family = (__u8)BPF_CORE_READ(sk, __sk_common.skc_family);
	out->sock_type = (__u8)BPF_CORE_READ(sk, sk_type);
	if (out->family == PW_AF_INET || out->family == PW_AF_INET6) {
		pw_read_inet(out, sk);
	} else if (out->family == PW_AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);

		if (peer)
			out->peer_inode = BPF_CORE_READ(peer, sk_socket, file, f_inode, i_ino);
	}
}

/* Fills `out` for fd `fd` of the table; returns 1 for an inet socket. */
static __always_inline int pw_read_stdio_fd(struct pw_stdio_fd *out, struct file **fds, unsigned int max_fds, int fd)
{
	struct file *file = 0;

	if ((unsigned int)fd >= max_fds || bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u16 mode = BPF_CORE_READ(inode, i_mode) & PW_S_IFMT;

	out->inode = BPF_CORE_READ(inode, i_ino);
	switch (mode) {
	case PW_S_IFSOCK:
		out->kind = PW_FD_SOCKET;
		pw_read_socket(out, file);
		return out->family == PW_AF_INET || out->family == PW_AF_INET6;
	case PW_S_IFIFO:
		out->kind = PW_FD_PIPE;
		return 0;
	case PW_S_IFCHR:
		out->kind = pw_is_tty(BPF_CORE_READ(inode, i_rdev)) ? PW_FD_TTY : PW_FD_CHAR;
		return 0;
	case PW_S_IFREG:
	case PW_S_IFDIR:
		out->kind = PW_FD_FILE;
		return 0;
	default:
		out->kind = PW_FD_OTHER;
		return 0;
	}
}

/* Reads fds 0-2 of `task`; returns whether one is an inet socket. */
static __always_inline int pw_read_stdio(struct pw_stdio_fd stdio[PW_STDIO_FDS], struct task_struct *task)
{
	struct fdtable *table = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(table, fd);
	unsigned int max_fds = BPF_CORE_READ(table, max_fds);
	int inet = 0;

	__builtin_memset(stdio, 0, sizeof(struct pw_stdio_fd) * PW_STDIO_FDS);
	if (!fds)
		return 0;
	inet |= pw_read_stdio_fd(&stdio[0], fds, max_fds, 0);
	inet |= pw_read_stdio_fd(&stdio[1], fds, max_fds, 1);
	inet |= pw_read_stdio_fd(&stdio[2], fds, max_fds, 2);
	return inet;
}

#endif
