/* libFuzzer target: the GGUF reader, over the whole file and over short
 * prefixes of it (the way the reader grows its buffer). */
#include <stdint.h>
#include <stddef.h>

#include "../lib/format/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf_file g;
	sc_err e;
	if (sc_gguf_parse(data, size, size, &g, &e) == 0) {
		sc_gguf_get_str(&g, "general.architecture");
		sc_gguf_file_done(&g);
	}
	if (size > 64 && sc_gguf_parse(data, size / 2, size, &g, &e) == 0)
		sc_gguf_file_done(&g);
	return 0;
}
