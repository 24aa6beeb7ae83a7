/* libFuzzer target: the server-sent-events parser of the smoke test, fed
 * line by line as the stream arrives. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "../lib/net/openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sse_state s = { .first_ms = -1, .usage_tokens = -1 };
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (sc_sse_line(&s, p, len, 1.0) < 0)
			break;
		p += len + 1;
	}
	sc_sse_state_done(&s);
	return 0;
}
