/* Thin wrappers for what Swift cannot call directly: libbpf's opts structs
 * (LIBBPF_OPTS) and its varargs log callback. No logic lives here. */
#ifndef PODWALL_SHIM_H
#define PODWALL_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <sys/vfs.h>
#include <sys/mount.h>

/* bpf_object__open_mem with object_name and pin_root_path set. */
struct bpf_object *pw_shim_open_mem(const void *bytes, size_t size, const char *name, const char *pin_root);

/* Creates the clsact qdisc. Returns 0, -EEXIST if it was already there, or -errno. */
int pw_shim_tc_hook_create(int ifindex);
/* Removes the clsact qdisc and every filter on it. */
int pw_shim_tc_hook_destroy(int ifindex);
int pw_shim_tc_attach(int ifindex, bool ingress, int prog_fd, __u32 handle, __u32 priority);
int pw_shim_tc_detach(int ifindex, bool ingress, __u32 handle, __u32 priority);
/* Fills *prog_id with the program of the filter at handle/priority, or returns -ENOENT. */
int pw_shim_tc_query(int ifindex, bool ingress, __u32 handle, __u32 priority, __u32 *prog_id);

/* TCX hooks (Linux >= 6.6), missing from Debian 12's uapi headers. */
#define PW_BPF_TCX_INGRESS 46
#define PW_BPF_TCX_EGRESS 47
#define PW_BPF_LINK_TYPE_TCX 11
/* Creates a TCX link that runs prog_fd before every other TCX program of
 * the hook (BPF_F_BEFORE with no anchor). Returns the link fd or -errno. */
int pw_shim_tcx_attach(int ifindex, bool ingress, int prog_fd);

/* BPF_PROG_TEST_RUN of one packet, `repeat` times. */
int pw_shim_test_run(int prog_fd, const void *packet, __u32 size, void *packet_out, __u32 *size_out,
		     __u32 repeat, __u32 *retval, __u32 *duration_ns);

/* setns(fd, CLONE_NEWNET): glibc declares setns only under _GNU_SOURCE. */
int pw_shim_enter_network_namespace(int fd);

/* Loads a four-instruction socket filter with an atomic fetch-or (Linux >=
 * 5.12). Returns 0 when the kernel accepts it, else -errno. */
int pw_shim_probe_atomic_fetch(void);

/* Routes libbpf's messages into a buffer instead of stderr, so that errors
 * reach the user as one sentence; the last messages are kept for --debug. */
void pw_shim_capture_libbpf_log(bool echo_to_stderr);
/* Copies the captured log (most recent last) and clears it. */
size_t pw_shim_take_libbpf_log(char *buffer, size_t size);

#endif
