#define _GNU_SOURCE
#include "podwall_shim.h"

#include <sched.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct bpf_object *pw_shim_open_mem(const void *bytes, size_t size, const char *name, const char *pin_root)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name, .pin_root_path = pin_root);
	return bpf_object__open_mem(bytes, size, &opts);
}

int pw_shim_tc_hook_create(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	return bpf_tc_hook_create(&hook);
}

int pw_shim_tc_hook_destroy(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	return bpf_tc_hook_destroy(&hook);
}

int pw_shim_tc_attach(int ifindex, bool ingress, int prog_fd, __u32 handle, __u32 priority)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = handle, .priority = priority,
		    .flags = BPF_TC_F_REPLACE);
	return bpf_tc_attach(&hook, &opts);
}

int pw_shim_tc_detach(int ifindex, bool ingress, __u32 handle, __u32 priority)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
	return bpf_tc_detach(&hook, &opts);
}

int pw_shim_tc_query(int ifindex, bool ingress, __u32 handle, __u32 priority, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
	int err = bpf_tc_query(&hook, &opts);

	if (!err)
		*prog_id = opts.prog_id;
	return err;
}

int pw_shim_tcx_attach(int ifindex, bool ingress, int prog_fd)
{
	/* BPF_F_BEFORE (uapi >= 6.6); libbpf 1.1 passes flags through. */
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = 1U << 3);
	return bpf_link_create(prog_fd, ifindex, ingress ? PW_BPF_TCX_INGRESS : PW_BPF_TCX_EGRESS, &opts);
}

int pw_shim_test_run(int prog_fd, const void *packet, __u32 size, void *packet_out, __u32 *size_out,
		     __u32 repeat, __u32 *retval, __u32 *duration_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = size,
		    .data_out = packet_out, .data_size_out = size_out ? *size_out : 0,
		    .repeat = (int)repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return -errno;
	*retval = opts.retval;
	*duration_ns = opts.duration;
	if (size_out)
		*size_out = opts.data_size_out;
	return 0;
}

/* libbpf logs from whichever thread calls it: guard the buffer. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buffer[16384];
static size_t log_length;
static bool log_echo;

static int capture_print(enum libbpf_print_level level, const char *format, va_list args)
{
	char line[1024];
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), format, args);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (log_echo)
		fputs(line, stderr);

	pthread_mutex_lock(&log_lock);
	/* Keep the most recent messages: drop the oldest half when full. */
	if (log_length + n >= sizeof(log_buffer)) {
		size_t keep = log_length / 2;
		memmove(log_buffer, log_buffer + log_length - keep, keep);
		log_length = keep;
	}
	if (log_length + n < sizeof(log_buffer)) {
		memcpy(log_buffer + log_length, line, n);
		log_length += n;
	}
	pthread_mutex_unlock(&log_lock);
	return n;
}

void pw_shim_capture_libbpf_log(bool echo_to_stderr)
{
	log_echo = echo_to_stderr;
	libbpf_set_print(capture_print);
}

size_t pw_shim_take_libbpf_log(char *buffer, size_t size)
{
	size_t n;

	pthread_mutex_lock(&log_lock);
	n = log_length < size ? log_length : size;
	memcpy(buffer, log_buffer + log_length - n, n);
	log_length = 0;
	pthread_mutex_unlock(&log_lock);
	return n;
}

int pw_shim_enter_network_namespace(int fd)
{
	return setns(fd, CLONE_NEWNET);
}

int pw_shim_probe_atomic_fetch(void)
{
	/* r0 = 0; *(u64 *)(r10 - 8) = r0; r1 = 1;
	 * r1 = atomic_fetch_or((u64 *)(r10 - 8), r1); exit */
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_0, .off = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | 0xc0 /* BPF_ATOMIC */ | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -8, .imm = BPF_OR | 0x01 /* BPF_FETCH */ },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}
