/* Packet parsing for TC programs: Ethernet, 802.1Q/802.1ad, IPv4 (options,
 * fragments), IPv6 (bounded extension-header walk), TCP, UDP, ICMP, ICMPv6.
 *
 * Parsing is staged: addresses are known once L3 parses, and everything the
 * blocklist needs comes from L3 alone, so garbage after the IP header can
 * never turn a packet into one that escapes enforcement. */
#ifndef PODWALL_LIB_PARSE_H
#define PODWALL_LIB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../podwall_abi.h"
#include "hints.h"

enum pw_parse_level {
	PW_PARSED_NOTHING = 0, /* not IP, or not even Ethernet */
	PW_PARSED_L3 = 1,      /* addresses valid; ports/flags are not */
	PW_PARSED_L4 = 2,      /* addresses and ports valid */
};

enum pw_fragment {
	PW_FRAG_NONE = 0,
	PW_FRAG_FIRST = 1, /* offset 0, more fragments follow: has L4 */
	PW_FRAG_LATER = 2, /* no L4 header in this packet */
};

struct pw_packet {
	__u8 src[16];
	__u8 dst[16];
	__u32 l4_offset;
	__u32 payload_offset; /* may point past the packet: no payload */
	__u32 frag_id;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 tcp_flags;
	__u8 fragment;	 /* enum pw_fragment */
	__u8 level;	 /* enum pw_parse_level */
	__u8 error;	 /* malformed header seen (counted by caller) */
	__u8 short_read; /* ran past the linear data: a pull may help */
	__u8 ext_limit;	 /* IPv6 extension chain longer than the walk */
};

#define PW_VLAN_MAX_DEPTH 2
/* Offsets past this are refused: bounds the verifier's offset tracking. */
#define PW_MAX_HEADER_OFFSET 1024

struct pw_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

struct pw_ipv6_ext_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct pw_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* Header lengths without pulling in kernel struct definitions. */
#define PW_ETH_HLEN  14
#define PW_IPV4_HLEN 20
#define PW_IPV6_HLEN 40
#define PW_TCP_HLEN  20
#define PW_UDP_HLEN  8
#define PW_ICMP_HLEN 8

#define PW_NEXTHDR_HOP	    0
#define PW_NEXTHDR_ROUTING  43
#define PW_NEXTHDR_FRAGMENT 44
#define PW_NEXTHDR_AUTH	    51
#define PW_NEXTHDR_DEST	    60
#define PW_NEXTHDR_ICMPV6   58

#define PW_ICMP_ECHO_REPLY     0
#define PW_ICMP_ECHO_REQUEST   8
#define PW_ICMPV6_ECHO_REQUEST 128
#define PW_ICMPV6_ECHO_REPLY   129

/* Returns a pointer to `len` readable bytes at `offset`, or NULL. */
static __always_inline void *pw_header(struct __sk_buff *skb, __u32 offset, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (offset > PW_MAX_HEADER_OFFSET)
		return NULL;
	if (data + offset + len > data_end)
		return NULL;
	return data + offset;
}

static __always_inline void pw_map_ipv4(__u8 out[16], const __u8 *in)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, in, 4);
}

/* Parses L2 and returns the L3 offset and ethertype, or -1. */
static __always_inline int pw_parse_l2(struct pw_packet *pkt, struct __sk_buff *skb, __u16 *proto)
{
	__u8 *eth = pw_header(skb, 0, PW_ETH_HLEN);
	__u32 offset = PW_ETH_HLEN;

	if (pw_unlikely(!eth)) {
		pkt->short_read = 1;
		return -1;
	}
	*proto = ((__u16)eth[12] << 8) | eth[13];

#pragma unroll
	for (int depth = 0; depth < PW_VLAN_MAX_DEPTH; depth++) {
		if (pw_likely(*proto != ETH_P_8021Q && *proto != ETH_P_8021AD))
			break;
		struct pw_vlan_hdr *vlan = pw_header(skb, offset, sizeof(*vlan));

		if (!vlan) {
			pkt->short_read = 1;
			return -1;
		}
		*proto = bpf_ntohs(vlan->encapsulated_proto);
		offset += sizeof(*vlan);
	}
	return offset;
}

static __always_inline int pw_parse_ipv4(struct pw_packet *pkt, struct __sk_buff *skb, __u32 offset)
{
	__u8 *ip = pw_header(skb, offset, PW_IPV4_HLEN);

	if (pw_unlikely(!ip)) {
		pkt->short_read = 1;
		return -1;
	}
	__u8 version = ip[0] >> 4;
	__u32 header_len = (ip[0] & 0x0f) * 4;
	__u16 total_len = ((__u16)ip[2] << 8) | ip[3];
	__u16 frag = ((__u16)ip[6] << 8) | ip[7];

	if (pw_unlikely(version != 4 || header_len < PW_IPV4_HLEN || total_len < header_len)) {
		pkt->error = 1;
		return -1;
	}
	pkt->family = PW_FAMILY_IPV4;
	pkt->proto = ip[9];
	pw_map_ipv4(pkt->src, ip + 12);
	pw_map_ipv4(pkt->dst, ip + 16);
	pkt->level = PW_PARSED_L3;

	if (pw_unlikely(frag & 0x1fff))
		pkt->fragment = PW_FRAG_LATER;
	else if (pw_unlikely(frag & 0x2000))
		pkt->fragment = PW_FRAG_FIRST;
	pkt->frag_id = ((__u16)ip[4] << 8) | ip[5];

	/* Options are skipped, not parsed: they carry nothing podwall needs. */
	if (pw_unlikely(!pw_header(skb, offset, header_len))) {
		pkt->short_read = 1;
		return -1;
	}
	return offset + header_len;
}

static __always_inline int pw_parse_ipv6(struct pw_packet *pkt, struct __sk_buff *skb, __u32 offset)
{
	__u8 *ip6 = pw_header(skb, offset, PW_IPV6_HLEN);

	if (!ip6) {
		pkt->short_read = 1;
		return -1;
	}
	if ((ip6[0] >> 4) != 6) {
		pkt->error = 1;
		return -1;
	}
	pkt->family = PW_FAMILY_IPV6;
	__builtin_memcpy(pkt->src, ip6 + 8, 16);
	__builtin_memcpy(pkt->dst, ip6 + 24, 16);
	pkt->level = PW_PARSED_L3;

	__u8 nexthdr = ip6[6];

	offset += PW_IPV6_HLEN;
#pragma unroll
	for (int i = 0; i < PW_IPV6_MAX_EXT_HEADERS; i++) {
		if (nexthdr == PW_NEXTHDR_FRAGMENT) {
			struct pw_ipv6_frag_hdr *fh = pw_header(skb, offset, sizeof(*fh));

			if (!fh) {
				pkt->short_read = 1;
				return -1;
			}
			__u16 frag = bpf_ntohs(fh->frag_off);

			pkt->frag_id = bpf_ntohl(fh->identification);
			if (frag & 0xfff8) {
				pkt->fragment = PW_FRAG_LATER;
				pkt->proto = fh->nexthdr;
				return -1;
			}
			if (frag & 1)
				pkt->fragment = PW_FRAG_FIRST;
			nexthdr = fh->nexthdr;
			offset += sizeof(*fh);
		} else if (nexthdr == PW_NEXTHDR_HOP || nexthdr == PW_NEXTHDR_ROUTING || nexthdr == PW_NEXTHDR_DEST ||
			   nexthdr == PW_NEXTHDR_AUTH) {
			struct pw_ipv6_ext_hdr *eh = pw_header(skb, offset, sizeof(*eh));

			if (!eh) {
				pkt->short_read = 1;
				return -1;
			}
			__u32 len =
				nexthdr == PW_NEXTHDR_AUTH ? ((__u32)eh->hdrlen + 2) * 4 : ((__u32)eh->hdrlen + 1) * 8;
			nexthdr = eh->nexthdr;
			offset += len;
		} else {
			pkt->proto = nexthdr;
			return offset;
		}
	}
	pkt->proto = nexthdr;
	pkt->ext_limit = 1;
	return -1;
}

static __always_inline void pw_parse_l4(struct pw_packet *pkt, struct __sk_buff *skb, __u32 offset)
{
	pkt->l4_offset = offset;
	if (pkt->proto == IPPROTO_TCP) {
		__u8 *tcp = pw_header(skb, offset, PW_TCP_HLEN);

		if (pw_unlikely(!tcp)) {
			/* A first fragment may carry as little as 8 bytes of TCP
			 * (nmap -f): its ports still name the flow, so a scan cannot
			 * hide in tiny fragments; the flags are in a later fragment. */
			__u8 *ports = pkt->fragment == PW_FRAG_FIRST ? pw_header(skb, offset, 4) : NULL;

			if (!ports) {
				pkt->short_read = 1;
				return;
			}
			pkt->sport = ((__u16)ports[0] << 8) | ports[1];
			pkt->dport = ((__u16)ports[2] << 8) | ports[3];
			pkt->payload_offset = 0xffffffff;
			pkt->level = PW_PARSED_L4;
			return;
		}
		__u32 data_offset = (tcp[12] >> 4) * 4;

		if (pw_unlikely(data_offset < PW_TCP_HLEN)) {
			pkt->error = 1;
			return;
		}
		pkt->sport = ((__u16)tcp[0] << 8) | tcp[1];
		pkt->dport = ((__u16)tcp[2] << 8) | tcp[3];
		pkt->tcp_flags = tcp[13];
		pkt->payload_offset = offset + data_offset;
	} else if (pkt->proto == IPPROTO_UDP) {
		__u8 *udp = pw_header(skb, offset, PW_UDP_HLEN);

		if (pw_unlikely(!udp)) {
			pkt->short_read = 1;
			return;
		}
		pkt->sport = ((__u16)udp[0] << 8) | udp[1];
		pkt->dport = ((__u16)udp[2] << 8) | udp[3];
		pkt->payload_offset = offset + PW_UDP_HLEN;
	} else if (pkt->proto == IPPROTO_ICMP || pkt->proto == PW_NEXTHDR_ICMPV6) {
		__u8 *icmp = pw_header(skb, offset, PW_ICMP_HLEN);

		if (!icmp) {
			pkt->short_read = 1;
			return;
		}
		__u8 type = icmp[0];

		/* Echo requests and replies share the identifier, so both
		 * directions land in one flow. */
		if (type == PW_ICMP_ECHO_REQUEST || type == PW_ICMP_ECHO_REPLY || type == PW_ICMPV6_ECHO_REQUEST ||
		    type == PW_ICMPV6_ECHO_REPLY) {
			pkt->sport = ((__u16)icmp[4] << 8) | icmp[5];
			pkt->dport = pkt->sport;
		} else {
			pkt->sport = ((__u16)type << 8) | icmp[1];
			pkt->dport = pkt->sport;
		}
		pkt->payload_offset = offset + PW_ICMP_HLEN;
	} else {
		/* Other protocols are tracked per address pair. */
		pkt->payload_offset = offset;
	}
	pkt->level = PW_PARSED_L4;
}

/* Fills *pkt from the packet; never fails, pkt->level says how far it got. */
static __always_inline void pw_parse(struct pw_packet *pkt, struct __sk_buff *skb)
{
	__u16 proto = 0;
	int offset;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	offset = pw_parse_l2(pkt, skb, &proto);
	if (offset < 0)
		return;
	if (proto == ETH_P_IP)
		offset = pw_parse_ipv4(pkt, skb, offset);
	else if (proto == ETH_P_IPV6)
		offset = pw_parse_ipv6(pkt, skb, offset);
	else
		return;
	if (pw_unlikely(offset < 0 || pkt->fragment == PW_FRAG_LATER))
		return;
	pw_parse_l4(pkt, skb, offset);
}

#endif
