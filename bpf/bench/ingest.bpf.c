// SPDX-License-Identifier: GPL-2.0
/* A synthetic producer of flow events for the agent's ingest benchmark
 * (podwall-ingest-bench): each run (BPF_PROG_TEST_RUN, `repeat` runs per
 * call) writes one flow record into the agent's own events ring through the
 * data path's own pw_emit_flow_event, so a full ring is counted in the
 * agent's pw_counters as the data path counts it. Never attached, not in the
 * agent's binary, not named pw_*.
 *
 * The records follow connections of 64 pods to 16 services each on port 80:
 * for every connection a new flow (the pod's SYN), its reply (SYN-ACK), the
 * pod's first payload (an HTTP request) and its end (FIN), in that order; the
 * pod's source port moves on every 1,024 connections, so each is a new flow. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "podwall_abi.h"

/* The maps the producer shares with the agent (pinned by name, so a load
 * under the agent's pin root takes the agent's own); the data path's other
 * maps are neither created nor adopted. The producer's interfaces have no
 * link entry: a full ring is counted on the CPU only. */
#define PODWALL_LIB_MAPS_H
#include "lib/event_maps.h"
#include "lib/events.h"

#define INGEST_PODS	       64
#define INGEST_SERVICES	       16
#define INGEST_EVENTS_PER_FLOW 4

/* Records written so far; the test runs of one producer run on one CPU at a time. */
__u64 ingest_sequence;
struct pw_flow_key ingest_key;
struct pw_flow_value ingest_value;

static const char ingest_request[PW_PAYLOAD_SNAP] = "GET /healthz HTTP/1.1\r\nHost: svc";

static __always_inline void ingest_ipv4(__u8 *addr, __u8 a, __u8 b, __u8 c, __u8 d)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	addr[12] = a;
	addr[13] = b;
	addr[14] = c;
	addr[15] = d;
}

SEC("tc")
int ingest_produce(struct __sk_buff *skb)
{
	__u64 sequence = ingest_sequence++;
	__u32 flow = sequence / INGEST_EVENTS_PER_FLOW;
	__u32 step = sequence % INGEST_EVENTS_PER_FLOW;
	__u32 pod = flow % INGEST_PODS;
	__u32 service = (flow / INGEST_PODS) % INGEST_SERVICES;
	struct pw_flow_key *key = &ingest_key;
	struct pw_flow_value *value = &ingest_value;
	__u64 now = bpf_ktime_get_ns();

	ingest_ipv4(key->pod_addr, 10, 244, 0, 2 + pod);
	ingest_ipv4(key->remote_addr, 10, 96, 0, 10 + service);
	key->ifindex = 1000 + pod;
	key->pod_port = 32768 + (flow / (INGEST_PODS * INGEST_SERVICES)) % 28000;
	key->remote_port = 80;
	key->proto = 6; /* IPPROTO_TCP */
	key->family = PW_FAMILY_IPV4;
	if (step == 0) {
		__builtin_memset(value, 0, sizeof(*value));
		value->first_seen_ns = now;
		value->flags = PW_FLOW_POD_INITIATED | PW_FLOW_SYN_FROM_POD;
		value->dir[PW_DIR_FROM_POD].packets = 1;
		value->dir[PW_DIR_FROM_POD].bytes = 74;
		value->dir[PW_DIR_FROM_POD].tcp_flags = PW_TCP_SYN;
		value->dir[PW_DIR_FROM_POD].payload_seq = flow;
	}
	value->last_seen_ns = now;

	__u32 type = PW_EVENT_FLOW_NEW;
	__u32 direction = PW_DIR_FROM_POD;
	__u32 end_reason = PW_END_NONE;
	struct pw_flow_direction *from_pod = &value->dir[PW_DIR_FROM_POD];
	struct pw_flow_direction *to_pod = &value->dir[PW_DIR_TO_POD];

	if (step == 1) {
		type = PW_EVENT_FLOW_REPLY;
		direction = PW_DIR_TO_POD;
		value->flags |= PW_FLOW_REPLY_SENT | PW_FLOW_SYN_TO_POD;
		to_pod->packets = 1;
		to_pod->bytes = 74;
		to_pod->tcp_flags = PW_TCP_SYN | PW_TCP_ACK;
	} else if (step == 2) {
		type = PW_EVENT_FLOW_PAYLOAD;
		value->flags |= PW_FLOW_PAYLOAD_FROM_POD;
		from_pod->packets = 3;
		from_pod->bytes = 74 + 66 + 180;
		from_pod->tcp_flags |= PW_TCP_ACK | PW_TCP_PSH;
		from_pod->payload_len = PW_PAYLOAD_SNAP;
		__builtin_memcpy(from_pod->payload, ingest_request, PW_PAYLOAD_SNAP);
	} else if (step == 3) {
		type = PW_EVENT_FLOW_END;
		end_reason = PW_END_FIN;
		value->flags |= PW_FLOW_END_SENT;
		from_pod->packets = 5;
		from_pod->bytes += 66 + 66;
		from_pod->tcp_flags |= PW_TCP_FIN;
		to_pod->packets = 4;
		to_pod->bytes = 74 + 66 + 900 + 66;
		to_pod->tcp_flags |= PW_TCP_PSH | PW_TCP_FIN;
	}
	pw_emit_flow_event(type, key, value, direction, end_reason);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
