// SPDX-License-Identifier: GPL-2.0
/* cgroup/sock_addr programs for the pods' cgroup: connect() and sendmsg()
 * to a blocklisted destination fail with EPERM, and an allowed connect() is
 * reported with its process. The logic lives in lib/. */
#include "lib/parse.h"
#include "lib/sock.h"

SEC("cgroup/connect4")
int pw_connect4(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict4(ctx, 1);
}

SEC("cgroup/connect6")
int pw_connect6(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict6(ctx, 1);
}

SEC("cgroup/sendmsg4")
int pw_sendmsg4(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict4(ctx, 0);
}

SEC("cgroup/sendmsg6")
int pw_sendmsg6(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict6(ctx, 0);
}

char LICENSE[] SEC("license") = "GPL";
