/* libFuzzer target: the safetensors header reader and the index reader. */
#include <stdint.h>
#include <stddef.h>

#include "../lib/format/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_header h;
	struct st_index x;
	sc_err e;
	/* the file as it is, and as if it were longer (a truncated download) */
	if (sc_st_parse(data, size, size, &h, &e) == 0)
		sc_st_header_done(&h);
	if (sc_st_parse(data, size, (uint64_t)size + 4096, &h, &e) == 0)
		sc_st_header_done(&h);
	if (sc_st_index_parse(data, size, &x, &e) == 0)
		sc_st_index_done(&x);
	return 0;
}
