/* The file pillar's tables, shared by the process object (an exec of a
 * file a pod wrote) and the file object (opens, path syscalls). */
#ifndef PODWALL_LIB_FILE_MAPS_H
#define PODWALL_LIB_FILE_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
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

#endif
