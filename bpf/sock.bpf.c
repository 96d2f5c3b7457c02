// SPDX-License-Identifier: GPL-2.0
/* cgroup/sock_addr programs for the pods' cgroup: connect() and sendmsg()
 * to a blocklisted destination fail with EPERM. The logic lives in lib/. */
#include "lib/parse.h"
#include "lib/sock.h"

SEC("cgroup/connect4")
int pw_connect4(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict4(ctx);
}

SEC("cgroup/connect6")
int pw_connect6(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict6(ctx);
}

SEC("cgroup/sendmsg4")
int pw_sendmsg4(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict4(ctx);
}

SEC("cgroup/sendmsg6")
int pw_sendmsg6(struct bpf_sock_addr *ctx)
{
	return pw_sock_verdict6(ctx);
}

char LICENSE[] SEC("license") = "GPL";
