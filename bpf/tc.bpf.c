// SPDX-License-Identifier: GPL-2.0
/* TC programs for a pod's host-side veth: ingress sees what the pod sends,
 * egress what it receives. The logic lives in lib/. */
#include "lib/datapath.h"

SEC("tc")
int pw_from_pod(struct __sk_buff *skb)
{
	return pw_datapath(skb, PW_DIR_FROM_POD);
}

SEC("tc")
int pw_to_pod(struct __sk_buff *skb)
{
	return pw_datapath(skb, PW_DIR_TO_POD);
}

char LICENSE[] SEC("license") = "GPL";
