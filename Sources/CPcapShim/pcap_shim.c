#include "pcap_shim.h"

#include <pcap/pcap.h>
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
