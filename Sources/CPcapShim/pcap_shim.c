#include "pcap_shim.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pw_pcap_reader {
	pcap_t *pcap;
	int nanoseconds;
};

pw_pcap_reader *pw_pcap_open(const char *path, char *error, int error_size)
{
	char message[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, message);

	if (!pcap) {
		strncpy(error, message, error_size - 1);
		error[error_size - 1] = 0;
		return NULL;
	}
	pw_pcap_reader *reader = calloc(1, sizeof(*reader));

	reader->pcap = pcap;
	reader->nanoseconds = pcap_get_tstamp_precision(pcap) == PCAP_TSTAMP_PRECISION_NANO;
	return reader;
}

int pw_pcap_datalink(pw_pcap_reader *reader)
{
	return pcap_datalink(reader->pcap);
}

int pw_pcap_next(pw_pcap_reader *reader, const uint8_t **data, uint32_t *captured, uint32_t *length,
		 int64_t *timestamp_ns)
{
	struct pcap_pkthdr *header;
	int result = pcap_next_ex(reader->pcap, &header, data);

	if (result == PCAP_ERROR_BREAK)
		return 0;
	if (result != 1)
		return -1;
	*captured = header->caplen;
	*length = header->len;
	*timestamp_ns = (int64_t)header->ts.tv_sec * 1000000000LL +
			(reader->nanoseconds ? header->ts.tv_usec : (int64_t)header->ts.tv_usec * 1000);
	return 1;
}

void pw_pcap_close(pw_pcap_reader *reader)
{
	pcap_close(reader->pcap);
	free(reader);
}

struct pw_pcap_writer {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	char *buffer;
};

/* A 1 MiB stdio buffer: records reach the file in whole batches at each
 * flush, so a killed agent leaves a file that ends on a record boundary. */
#define PW_PCAP_WRITE_BUFFER (1 << 20)

pw_pcap_writer *pw_pcap_writer_create(const char *path, uint32_t snaplen, char *error, int error_size)
{
	FILE *file = fopen(path, "wbx");

	if (!file) {
		snprintf(error, error_size, "%s", strerror(errno));
		return NULL;
	}
	pw_pcap_writer *writer = calloc(1, sizeof(*writer));

	writer->buffer = malloc(PW_PCAP_WRITE_BUFFER);
	setvbuf(file, writer->buffer, _IOFBF, PW_PCAP_WRITE_BUFFER);
	writer->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)snaplen, PCAP_TSTAMP_PRECISION_NANO);
	writer->dumper = writer->dead ? pcap_dump_fopen(writer->dead, file) : NULL;
	if (!writer->dumper) {
		snprintf(error, error_size, "%s", writer->dead ? pcap_geterr(writer->dead) : "pcap_open_dead failed");
		fclose(file);
		if (writer->dead)
			pcap_close(writer->dead);
		free(writer->buffer);
		free(writer);
		return NULL;
	}
	return writer;
}

void pw_pcap_writer_write(pw_pcap_writer *writer, const uint8_t *data, uint32_t captured, uint32_t length,
			  int64_t timestamp_ns)
{
	struct pcap_pkthdr header = {
		.ts = { .tv_sec = timestamp_ns / 1000000000LL, .tv_usec = timestamp_ns % 1000000000LL },
		.caplen = captured,
		.len = length,
	};

	pcap_dump((u_char *)writer->dumper, &header, data);
}

int pw_pcap_writer_flush(pw_pcap_writer *writer)
{
	errno = 0;
	if (pcap_dump_flush(writer->dumper) != 0 || ferror(pcap_dump_file(writer->dumper)))
		return errno ? errno : EIO;
	return 0;
}

int64_t pw_pcap_writer_size(pw_pcap_writer *writer)
{
	return pcap_dump_ftell64(writer->dumper);
}

int pw_pcap_writer_close(pw_pcap_writer *writer)
{
	int result = pw_pcap_writer_flush(writer);

	pcap_dump_close(writer->dumper);
	pcap_close(writer->dead);
	free(writer->buffer);
	free(writer);
	return result;
}
