/* libFuzzer target: ticket-sharer's strict FILE ticket cache parser (runners/ticket-sharer/ccfile.c),
 * which reads whatever file a user's kinit - or anything else - left in the host folder. */
#include <stddef.h>
#include <stdint.h>

#include "sharer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t entries;
	(void)ccfile_parse(data, size, &entries, err, sizeof err);
	return 0;
}
