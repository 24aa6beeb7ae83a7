/* libFuzzer target: models.ini as sc_registry_parse reads it (the ini layer,
 * quoting, escapes, continuations, every key's value rules). Invariants: a
 * loaded registry names only models whose names are valid file names and
 * only hosts without control characters. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "../lib/base/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry r;
	sc_err e;
	if (sc_registry_parse("fuzz.ini", (const char *)data, size, &r, &e) < 0)
		return 0;
	for (size_t i = 0; i < r.n_models; i++)
		if (!sc_model_name_valid(r.models[i].name))
			__builtin_trap();
	for (const unsigned char *p = (const unsigned char *)r.host; *p; p++)
		if (*p < 0x20)
			__builtin_trap();
	sc_registry_done(&r);
	return 0;
}
