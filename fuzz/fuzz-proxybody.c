/* libFuzzer target: the proxy's reading of a request body (the model and
 * stream fields), which every request with a valid token reaches. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "../lib/proxy/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char model[256];
	bool stream;
	sc_err e = { 0 };
	if (sc_px_body_fields((const char *)data, size, model, sizeof model, &stream, &e) == 0 &&
	    strlen(model) >= sizeof model)
		__builtin_trap();  /* the name must fit, terminated */
	return 0;
}
