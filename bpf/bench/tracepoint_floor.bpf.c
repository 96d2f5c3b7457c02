// SPDX-License-Identifier: GPL-2.0
/* A program that does nothing on the tracepoint where podwall judges opens
 * (sys_exit_openat): what any program there costs an open, the floor the
 * file programs' cost is compared with (podwall-exec-bench files). Never
 * attached by the agent, and not named pw_*. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_exit_openat")
int empty_sys_exit_openat(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
