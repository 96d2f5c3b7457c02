/* cgroup socket hooks: refuse connect() and sendmsg() to blocklisted
 * destinations with EPERM, so applications fail fast and the event names
 * the process. */
#ifndef PODWALL_LIB_SOCK_H
#define PODWALL_LIB_SOCK_H

#include "compat.h"
#include "enforce.h"

#define PW_SOCK_ALLOW 1
#define PW_SOCK_DENY  0     /* the syscall returns EPERM */

static __always_inline int pw_deny_event_due(const __u8 addr[16], __u16 port, __u64 now)
{
	struct pw_deny_limit_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .port = port };

	__builtin_memcpy(key.addr, addr, 16);
	__u64 *last = bpf_map_lookup_elem(&pw_deny_limit, &key);

	if (last && now - *last < PW_DROP_EVENT_INTERVAL_NS)
		return 0;
	bpf_map_update_elem(&pw_deny_limit, &key, &now, BPF_ANY);
	return 1;
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
	event->header.type = PW_EVENT_DENY;
	event->header.size = sizeof(*event);
	event->header.timestamp_ns = now;
	__builtin_memcpy(event->key.remote_addr, addr, 16);
	event->key.remote_port = port;
	event->key.proto = proto;
	event->key.family = family;
	event->direction = PW_DIR_FROM_POD;
	event->reason = PW_DROP_BLOCKLIST;
	event->matched_prefixlen = match->prefixlen ? match->prefixlen : pw_block_prefixlen(addr, match->entry);
	__builtin_memcpy(event->matched_addr, addr, 16);
	event->pid_tgid = bpf_get_current_pid_tgid();
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	bpf_ringbuf_submit(event, 0);
}

static __always_inline int pw_sock_verdict(struct bpf_sock_addr *ctx, const __u8 addr[16], __u8 family)
{
	struct pw_block_match match;
	__u64 now = bpf_ktime_get_ns();

	if (!pw_block_lookup(addr, now, &match) || pw_allowed(addr))
		return PW_SOCK_ALLOW;
	pw_add(&match.entry->hits, 1);
	pw_count(PW_CNT_SOCK_DENIED, 1);

	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u8 proto = ctx->type == 1 /* SOCK_STREAM */ ? IPPROTO_TCP : IPPROTO_UDP;

	if (pw_deny_event_due(addr, port, now))
		pw_emit_deny(addr, port, proto, family, &match, now);
	return PW_SOCK_DENY;
}

static __always_inline int pw_sock_verdict4(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];
	__u32 ip = ctx->user_ip4;

	pw_map_ipv4(addr, (const __u8 *)&ip);
	return pw_sock_verdict(ctx, addr, PW_FAMILY_IPV4);
}

static __always_inline int pw_sock_verdict6(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];
	__u32 words[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	__builtin_memcpy(addr, words, 16);
	return pw_sock_verdict(ctx, addr, PW_FAMILY_IPV6);
}

#endif
