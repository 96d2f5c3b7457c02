/* Relayed shells, decided in the kernel (PW_RELAY_WINDOW_NS): a shell that
 * reads its commands from a pipe or pty which a connected process of its
 * pod feeds. The agent judged these alone before, after the events reached
 * it, and a listener that sent its command at once got it run in about one
 * run in three (docs/process.md). Here the second of the two events (the
 * shell's exec, the relay's connect) is answered before a byte flows. */
#ifndef PODWALL_LIB_RELAY_H
#define PODWALL_LIB_RELAY_H

#include <bpf/bpf_core_read.h>
#include "kernel_types.h"
#include "process_maps.h"
#include "process_task.h"
#include "stdio.h"

#define PW_IPPROTO_TCP 6
/* Arguments after argv[0] read to judge a shell's command line; a shell
 * with more options than this is left to the agent. */
#define PW_SHELL_ARGUMENTS_READ 4
/* A cluster of short options longer than this is not judged. */
#define PW_SHORT_OPTIONS_READ 16

static __always_inline int pw_text_is(const char *text, long length, const char *expected, long expected_length)
{
	if (length != expected_length)
		return 0;
#pragma unroll
	for (int i = 0; i < PW_SHORT_OPTIONS_READ; i++) {
		if (i < expected_length && text[i] != expected[i])
			return 0;
	}
	return 1;
}

/* One argument of a shell's command line (`length` bytes): 1 when it makes
 * the shell read commands from stdin, 0 when it gives the program some other
 * way (a script, -c, -e, ...) or cannot be judged, -1 when it says neither.
 * Mirrors ShellInvocation.readsCommandsFromStdin in the agent. */
static __always_inline int pw_judge_shell_argument(const char *text, long length)
{
	if (length < 1 || text[0] != '-')
		return 0; /* a script to run */
	if (length == 1)
		return 1; /* "-": stdin */
	if (text[1] == '-') {
		if (length == 2)
			return 1; /* "--": options end, stdin follows */
		if (pw_text_is(text, length, "--eval", 6) || pw_text_is(text, length, "--command", 9))
			return 0;
		return -1;
	}
	if (length == 2 && (text[1] == 'e' || text[1] == 'm' || text[1] == 'r' || text[1] == 'p' || text[1] == 'E'))
		return 0;
	if (length >= PW_SHORT_OPTIONS_READ)
		return 0;
		/* `-c`, and clusters with it: `bash -lc 'cmd'`, `sh -ec`. */
#pragma unroll
	for (int i = 1; i < PW_SHORT_OPTIONS_READ; i++) {
		if (i < length && text[i] == 'c')
			return 0;
	}
	return -1;
}

/* Whether the task's command line makes it read commands from stdin
 * (`sh -i`, `bash`, `python3 -`); 0 when it cannot tell (a kill needs to be sure). */
static __always_inline int pw_reads_commands_from_stdin(struct task_struct *task)
{
	__u32 zero = 0;
	struct pw_argument *argument = bpf_map_lookup_elem(&pw_argument_scratch, &zero);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long next = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);

	if (!argument)
		return 0;
#pragma unroll
	for (int i = 0; i <= PW_SHELL_ARGUMENTS_READ; i++) {
		if (next >= end)
			return i > 0; /* every argument was an option that reads stdin */
		long length = bpf_probe_read_user_str(argument->text, sizeof(argument->text), (const void *)next);

		if (length <= 0 || length >= (long)sizeof(argument->text))
			return 0;
		if (i > 0) {
			int verdict = pw_judge_shell_argument(argument->text, length - 1);

			if (verdict >= 0)
				return verdict;
		}
		next += length;
	}
	return 0;
}

/* The pipes and FIFOs on the task's fds 0-2 (inode 0 where none). */
static __always_inline void pw_stdio_pipes(struct pw_inode_key pipes[PW_STDIO_FDS], struct task_struct *task)
{
	struct fdtable *table = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(table, fd);
	unsigned int max_fds = BPF_CORE_READ(table, max_fds);

#pragma unroll
	for (int fd = 0; fd < PW_STDIO_FDS; fd++) {
		struct file *file = 0;

		pipes[fd] = (struct pw_inode_key){};
		if ((unsigned int)fd >= max_fds || !fds || bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
			continue;
		struct inode *inode = BPF_CORE_READ(file, f_inode);

		if ((BPF_CORE_READ(inode, i_mode) & PW_S_IFMT) != PW_S_IFIFO)
			continue;
		pipes[fd].inode = BPF_CORE_READ(inode, i_ino);
		pipes[fd].dev = BPF_CORE_READ(inode, i_sb, s_dev);
	}
}

static __always_inline int pw_within_relay_window(__u64 then, __u64 now)
{
	return then && now - then < PW_RELAY_WINDOW_NS;
}

/* The process on the other side of `pipe`, which the caller (a shell when
 * `is_shell`, else a process connecting out) has as fd `fd`: the tgid of a
 * relay (or shell) that had it on its opposite side within the window, and
 * when (`seen`), or 0. */
static __always_inline __u32 pw_pipe_partner(const struct pw_inode_key *pipe, int fd, int is_shell, __u32 tgid,
					     __u64 now, __u64 *seen)
{
	struct pw_relay_pipe *mark = pipe->inode ? bpf_map_lookup_elem(&pw_relay_pipes, pipe) : 0;

	if (!mark)
		return 0;
	/* The caller reads it (fd 0): the partner wrote it; and the reverse. */
	*seen = is_shell ? (fd == 0 ? mark->relay_writes_ns : mark->relay_reads_ns)
			 : (fd == 0 ? mark->shell_writes_ns : mark->shell_reads_ns);
	__u32 partner = is_shell ? mark->relay_tgid : mark->shell_tgid;

	return partner != tgid && pw_within_relay_window(*seen, now) ? partner : 0;
}

/* Leaves the caller on `pipe`, for a partner that comes later to find. */
static __always_inline void pw_mark_pipe(const struct pw_inode_key *pipe, int fd, int is_shell, __u32 tgid, __u64 now)
{
	if (!pipe->inode)
		return;
	struct pw_relay_pipe *mark = bpf_map_lookup_elem(&pw_relay_pipes, pipe);
	struct pw_relay_pipe fresh = {};

	if (mark)
		fresh = *mark;
	if (is_shell) {
		fresh.shell_tgid = tgid;
		if (fd == 0)
			fresh.shell_reads_ns = now;
		else
			fresh.shell_writes_ns = now;
	} else {
		fresh.relay_tgid = tgid;
		if (fd == 0)
			fresh.relay_reads_ns = now;
		else
			fresh.relay_writes_ns = now;
	}
	bpf_map_update_elem(&pw_relay_pipes, pipe, &fresh, BPF_ANY);
}

/* `tgid`'s connection into `relay` when it connected out within the window;
 * a nonzero `start_ns` must be the process's start (not a reused tgid), a
 * nonzero `connect_ns` the connect that marked a pipe. */
static __always_inline int pw_recent_connection(__u32 tgid, __u64 start_ns, __u64 connect_ns, __u64 now,
						struct pw_relay_connection *relay)
{
	struct pw_relay_connection *connection = tgid ? bpf_map_lookup_elem(&pw_relay_connects, &tgid) : 0;

	if (!connection || !pw_within_relay_window(connection->connect_ns, now) ||
	    (start_ns && connection->start_ns != start_ns) || (connect_ns && connection->connect_ns != connect_ns))
		return 0;
	*relay = *connection;
	return 1;
}

/* The relay a global function found (this CPU's; pw_relayed_shell()). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_relay_connection);
} pw_relay_found SEC(".maps");

/* At a shell's exec: 1, with its relay's connection in `relay`, when it is
 * relayed (its parent connected out within the window, or a process that
 * did is on the other side of a pipe of its stdio). A shell not (yet)
 * relayed leaves its pipes for the relay's connect to find. */
static __always_inline int pw_relayed_at_exec(struct task_struct *task, __u8 stdin_kind, __u8 stdin_family,
					      struct pw_relay_connection *relay)
{
	int relayable = stdin_kind == PW_FD_PIPE || stdin_kind == PW_FD_TTY ||
			(stdin_kind == PW_FD_SOCKET && stdin_family == PW_AF_UNIX);

	if (!relayable || !pw_reads_commands_from_stdin(task))
		return 0;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 now = bpf_ktime_get_ns();
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);

	if (pw_recent_connection(BPF_CORE_READ(parent, tgid), BPF_CORE_READ(parent, group_leader, start_time), 0, now,
				 relay))
		return 1;
	struct pw_inode_key pipes[PW_STDIO_FDS];

	pw_stdio_pipes(pipes, task);
#pragma unroll
	for (int fd = 0; fd < PW_STDIO_FDS; fd++) {
		__u64 seen = 0;
		__u32 partner = pw_pipe_partner(&pipes[fd], fd, 1, tgid, now, &seen);

		if (partner && pw_recent_connection(partner, 0, seen, now, relay))
			return 1;
	}
#pragma unroll
	for (int fd = 0; fd < PW_STDIO_FDS; fd++)
		pw_mark_pipe(&pipes[fd], fd, 1, tgid, now);
	struct pw_relay_shell shell = {
		.exec_ns = now, .parent_start_ns = BPF_CORE_READ(parent, group_leader, start_time), .tgid = tgid};
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);

	bpf_map_update_elem(&pw_relay_shells, &parent_tgid, &shell, BPF_ANY);
	return 0;
}

/* pw_relayed_at_exec() for the current task, the relay left in
 * pw_relay_found: a global function, verified once (inlined into pw_exec
 * beside the drop checks it took Linux 5.10's verifier past its limit). */
__noinline int pw_relayed_shell(__u32 stdin_kind, __u32 stdin_family)
{
	__u32 zero = 0;
	struct pw_relay_connection *relay = bpf_map_lookup_elem(&pw_relay_found, &zero);

	if (!relay)
		return 0;
	__builtin_memset(relay, 0, sizeof(*relay));
	return pw_relayed_at_exec((struct task_struct *)bpf_get_current_task(), stdin_kind, stdin_family, relay);
}

/* A network tool (by its name's class) connecting out after it started a
 * stdin-reading shell: the shell's tgid, or 0. Only a tool: a service that
 * runs a shell and then opens a connection is left to the agent, which kills
 * the shell, not the service. */
static __always_inline __u32 pw_shell_of_connecting_tool(struct task_struct *task, const char comm[16], __u32 tgid,
							 __u64 now)
{
	/* The shells' table first: it is empty for almost every process. */
	struct pw_relay_shell *shell = bpf_map_lookup_elem(&pw_relay_shells, &tgid);

	if (!shell || !pw_within_relay_window(shell->exec_ns, now) ||
	    shell->parent_start_ns != BPF_CORE_READ(task, group_leader, start_time) ||
	    !(pw_exec_class_of(comm) & PW_EXEC_NETWORK_TOOL))
		return 0;
	return shell->tgid;
}

/* The destination of a connect() as the caller passed it: 1, with the
 * address (IPv4-mapped) and port in `to`, for an inet address that is not
 * loopback or unspecified. */
static __always_inline int pw_outbound_destination(const void *address, long length, struct pw_relay_connection *to)
{
	__u8 *remote = to->remote_addr;
	__u16 family = 0;

	if (length < 2 || bpf_probe_read_user(&family, sizeof(family), address))
		return 0;
	if (family == PW_AF_INET) {
		struct {
			__u16 family;
			__be16 port;
			__u8 addr[4];
		} in = {};

		if (length < (long)sizeof(in) || bpf_probe_read_user(&in, sizeof(in), address))
			return 0;
		remote[10] = remote[11] = 0xff;
		__builtin_memcpy(&remote[12], in.addr, 4);
		to->remote_port = bpf_ntohs(in.port);
	} else if (family == PW_AF_INET6) {
		struct {
			__u16 family;
			__be16 port;
			__u32 flowinfo;
			__u8 addr[16];
		} in6 = {};

		if (length < (long)sizeof(in6) || bpf_probe_read_user(&in6, sizeof(in6), address))
			return 0;
		__builtin_memcpy(remote, in6.addr, 16);
		to->remote_port = bpf_ntohs(in6.port);
	} else {
		return 0;
	}
	int zero_prefix = 1;

#pragma unroll
	for (int i = 0; i < 10; i++)
		zero_prefix &= remote[i] == 0;
	if (zero_prefix && remote[10] == 0xff && remote[11] == 0xff)
		return remote[12] != 127 && (remote[12] | remote[13] | remote[14] | remote[15]); /* 127/8, 0.0.0.0 */
	if (zero_prefix && !remote[10] && !remote[11] && !remote[12] && !remote[13] && !remote[14])
		return remote[15] > 1; /* ::1, :: */
	return 1;
}

/* connect(fd, address, length) by a pod's process: a TCP connection to a
 * non-loopback address marks the process (and the pipes on its stdio) as a
 * possible relay; when a stdin-reading shell is on the other side of a pipe
 * of its stdio, it is that shell's relay: killed before its connection
 * exists, and reported. */
static __always_inline void pw_on_connect(long fd, const void *address, long length)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct pw_process_config *config = pw_current_config(task);
	struct pw_relay_connection connection = {};

	if (!config || !pw_outbound_destination(address, length, &connection))
		return;
	struct fdtable *table = BPF_CORE_READ(task, files, fdt);
	struct pw_stdio_fd socket = {};

	if (fd < 0 || !pw_read_stdio_fd(&socket, BPF_CORE_READ(table, fd), BPF_CORE_READ(table, max_fds), (int)fd) ||
	    socket.protocol != PW_IPPROTO_TCP)
		return;
	__u64 now = bpf_ktime_get_ns();
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct pw_inode_key pipes[PW_STDIO_FDS];
	__u32 shell = 0;

	connection.connect_ns = now;
	connection.start_ns = BPF_CORE_READ(task, group_leader, start_time);
	connection.tgid = tgid;
	bpf_get_current_comm(connection.comm, sizeof(connection.comm));
	bpf_map_update_elem(&pw_relay_connects, &tgid, &connection, BPF_ANY);
	pw_stdio_pipes(pipes, task);
#pragma unroll
	for (int i = 0; i < PW_STDIO_FDS; i++) {
		__u64 seen = 0;
		__u32 partner = pw_pipe_partner(&pipes[i], i, 0, tgid, now, &seen);

		if (partner)
			shell = partner;
		else
			pw_mark_pipe(&pipes[i], i, 0, tgid, now);
	}
	if (!shell)
		shell = pw_shell_of_connecting_tool(task, connection.comm, tgid, now);
	if (!shell)
		return;
	__u32 flags = 0;

	if (pw_kill_current(config->policy & PW_POLICY_KILL_REVERSE_SHELL))
		flags |= PW_EXEC_KILLED;
	struct pw_relay_connect_event *event = pw_process_reserve(event, PW_EVENT_RELAY_CONNECT, sizeof(*event));

	if (!event)
		return;
	pw_read_process_id(&event->process, task);
	event->shell_tgid = shell;
	event->flags = flags;
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->connection = connection;
	bpf_ringbuf_submit(event, pw_process_submit_flags(1));
}

#endif
