/* Reading and writing capture files through libpcap, behind opaque handles: this header
 * includes no libpcap header, so pcap's `struct bpf_insn` never meets
 * linux/bpf.h's in one Swift compilation. */
#ifndef PODWALL_PCAP_SHIM_H
#define PODWALL_PCAP_SHIM_H

#include <stdint.h>

typedef struct pw_pcap_reader pw_pcap_reader;

/* Opens a pcap or pcapng file; on failure returns NULL and fills `error`. */
pw_pcap_reader *pw_pcap_open(const char *path, char *error, int error_size);
/* The link type (DLT_*): 1 Ethernet, 113 Linux cooked, 101 raw IP. */
int pw_pcap_datalink(pw_pcap_reader *reader);
/* Next packet: 1 and the packet, 0 at the end, -1 on a read error. */
int pw_pcap_next(pw_pcap_reader *reader, const uint8_t **data, uint32_t *captured, uint32_t *length,
		 int64_t *timestamp_ns);
void pw_pcap_close(pw_pcap_reader *reader);

typedef struct pw_pcap_writer pw_pcap_writer;

/* Creates an Ethernet pcap file with nanosecond timestamps; NULL and
 * `error` on failure. Output is buffered until pw_pcap_writer_flush. */
pw_pcap_writer *pw_pcap_writer_create(const char *path, uint32_t snaplen, char *error, int error_size);
void pw_pcap_writer_write(pw_pcap_writer *writer, const uint8_t *data, uint32_t captured, uint32_t length,
			  int64_t timestamp_ns);
/* 0, or the errno of the failed write (ENOSPC on a full disk). */
int pw_pcap_writer_flush(pw_pcap_writer *writer);
/* Bytes in the file once flushed. */
int64_t pw_pcap_writer_size(pw_pcap_writer *writer);
/* Flushes and closes: 0 or an errno. */
int pw_pcap_writer_close(pw_pcap_writer *writer);

#endif
