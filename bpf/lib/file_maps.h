/* The file pillar's tables, shared by the process object (an exec of a
 * file a pod wrote) and the file object (opens, path syscalls). */
#ifndef PODWALL_LIB_FILE_MAPS_H
#define PODWALL_LIB_FILE_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kernel_types.h"
#include "../podwall_abi.h"

/* Watched path prefixes, from the agent's rules: the longest match wins. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_FILE_RULES_ENTRIES);
	__type(key, struct pw_path_key);
	__type(value, struct pw_file_rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_file_rules SEC(".maps");

/* Names judged by name (enum pw_file_rule_flag): a read-only open of
 * another name ends with this one lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_FILE_NAMES_ENTRIES);
	__type(key, struct pw_file_name_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_file_names SEC(".maps");

/* Regular files pods' processes opened for writing (by inode). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_WRITTEN_FILES_ENTRIES);
	__type(key, struct pw_inode_key);
	__type(value, struct pw_written_file);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_written_files SEC(".maps");

/* The key of the program or script `file` in pw_written_files. */
static __always_inline struct pw_inode_key pw_inode_of(struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct pw_inode_key key = {
		.inode = BPF_CORE_READ(inode, i_ino),
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
	};

	return key;
}

/* `#!` scripts exec'd in pods whose interpreter has not opened them yet. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_SCRIPT_EXECS_ENTRIES);
	__type(key, __u32); /* tgid */
	__type(value, struct pw_script_exec);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_script_execs SEC(".maps");

/* How many entries pw_script_execs has (about: an LRU eviction is not
 * counted down): while 0, an open costs no lookup there. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_scripts_open SEC(".maps");

#endif
