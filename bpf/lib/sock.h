/* cgroup socket hooks: refuse connect() and sendmsg() to blocklisted
 * destinations with EPERM, so applications fail fast and the event names
 * the process. */
#ifndef PODWALL_LIB_SOCK_H
#define PODWALL_LIB_SOCK_H

#include "compat.h"
#include "enforce.h"

#define PW_SOCK_ALLOW 1
#define PW_SOCK_DENY  0 /* the syscall returns EPERM */

/* Same key as the deny limit: the process and its destination. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_CONNECT_LIMIT_ENTRIES);
	__type(key, struct pw_deny_limit_key);
	__type(value, __u64); /* last connect event, ns */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_connect_limit SEC(".maps");

/* Whether this process's event for this destination is due (one per
 * interval in `limit`); marks it sent. */
static __always_inline int pw_process_event_due(void *limit, const __u8 addr[16], __u16 port, __u64 now)
{
	struct pw_deny_limit_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .port = port};

	__builtin_memcpy(key.addr, addr, 16);
	__u64 *last = bpf_map_lookup_elem(limit, &key);

	if (last && now - *last < PW_DROP_EVENT_INTERVAL_NS)
		return 0;
	bpf_map_update_elem(limit, &key, &now, BPF_ANY);
	return 1;
}

/* What every record of the socket hooks says: when, to where, and who asked. */
static __always_inline void pw_fill_sock_record(struct pw_event_header *header, __u16 type, __u16 size, __u64 now,
						struct pw_flow_key *key, const __u8 addr[16], __u16 port, __u8 proto,
						__u8 family, __u64 *pid_tgid, __u32 *uid, __u64 *cgroup_id,
						char comm[16])
{
	header->type = type;
	header->size = size;
	header->timestamp_ns = now;
	__builtin_memcpy(key->remote_addr, addr, 16);
	key->remote_port = port;
	key->proto = proto;
	key->family = family;
	*pid_tgid = bpf_get_current_pid_tgid();
	*uid = (__u32)bpf_get_current_uid_gid();
	*cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(comm, 16);
}

static __always_inline void pw_emit_connect(const __u8 addr[16], __u16 port, __u8 proto, __u8 family, __u64 now)
{
	struct pw_connect_event *event = bpf_ringbuf_reserve(&pw_events, sizeof(*event), 0);

	if (!event) {
		pw_count(PW_CNT_RINGBUF_DROPS, 1);
		return;
	}
	asm volatile("" : : "r"(__builtin_btf_type_id(*event, 0)));
	__builtin_memset(event, 0, sizeof(*event));
	pw_fill_sock_record(&event->header, PW_EVENT_CONNECT, sizeof(*event), now, &event->key, addr, port, proto,
			    family, &event->pid_tgid, &event->uid, &event->cgroup_id, event->comm);
	bpf_ringbuf_submit(event, 0);
}

static __always_inline void pw_emit_deny(const __u8 addr[16], __u16 port, __u8 proto, __u8 family,
					 const struct pw_block_match *match, __u64 now)
{
	struct pw_drop_event *event = bpf_ringbuf_reserve(&pw_events, sizeof(*event), 0);

	if (!event) {
		pw_count(PW_CNT_RINGBUF_DROPS, 1);
		return;
	}
	__builtin_memset(event, 0, sizeof(*event));
	pw_fill_sock_record(&event->header, PW_EVENT_DENY, sizeof(*event), now, &event->key, addr, port, proto, family,
			    &event->pid_tgid, &event->uid, &event->cgroup_id, event->comm);
	event->direction = PW_DIR_FROM_POD;
	event->reason = PW_DROP_BLOCKLIST;
	event->matched_prefixlen = match->prefixlen ? match->prefixlen : pw_block_prefixlen(addr, match->entry);
	__builtin_memcpy(event->matched_addr, addr, 16);
	bpf_ringbuf_submit(event, 0);
}

/* `connecting`: connect(), whose allowed calls are reported too (the
 * process behind a flow); sendmsg() reports only denials. */
static __always_inline int pw_sock_verdict(struct bpf_sock_addr *ctx, const __u8 addr[16], __u8 family, int connecting)
{
	struct pw_block_match match;
	__u64 now = bpf_ktime_get_ns();
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u8 proto = ctx->type == 1 /* SOCK_STREAM */ ? IPPROTO_TCP : IPPROTO_UDP;

	if (!pw_block_lookup(addr, now, &match) || pw_allowed(addr)) {
		if (connecting && pw_process_event_due(&pw_connect_limit, addr, port, now))
			pw_emit_connect(addr, port, proto, family, now);
		return PW_SOCK_ALLOW;
	}
	pw_add(&match.entry->hits, 1);
	pw_count(PW_CNT_SOCK_DENIED, 1);

	if (pw_process_event_due(&pw_deny_limit, addr, port, now))
		pw_emit_deny(addr, port, proto, family, &match, now);
	return PW_SOCK_DENY;
}

static __always_inline int pw_sock_verdict4(struct bpf_sock_addr *ctx, int connecting)
{
	__u8 addr[16];
	__u32 ip = ctx->user_ip4;

	pw_map_ipv4(addr, (const __u8 *)&ip);
	return pw_sock_verdict(ctx, addr, PW_FAMILY_IPV4, connecting);
}

static __always_inline int pw_sock_verdict6(struct bpf_sock_addr *ctx, int connecting)
{
	__u8 addr[16];
	__u32 words[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};

	__builtin_memcpy(addr, words, 16);
	return pw_sock_verdict(ctx, addr, PW_FAMILY_IPV6, connecting);
}

#endif
