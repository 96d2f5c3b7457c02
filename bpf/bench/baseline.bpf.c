// SPDX-License-Identifier: GPL-2.0
/* A TC program that does nothing: the benchmarks attach it to measure what
 * any TC program costs on this path, the floor podwall's data path is
 * compared with. Never attached by the agent, and not named pw_*, so
 * that tools never take it for one of podwall's programs. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
