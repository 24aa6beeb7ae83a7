/* libFuzzer target: config.json facts, the quantization declaration and
 * the classifier fed with what they produce. */
#include <jansson.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "../lib/format/classify.h"
#include "../lib/format/hfconfig.h"
#include "../lib/format/quantcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, 0, &je);
	if (!j)
		return 0;
	struct hf_config c;
	struct quant_decl d;
	sc_err e;
	if (sc_hf_config_from_json(j, &c, &e) == 0)
		sc_hf_config_done(&c);
	if (sc_quant_decl_find("/nonexistent", j, &d, &e) == 0) {
		struct tstats s;
		memset(&s, 0, sizeof s);
		sc_tstats_add(&s, "l.weight", 8, ST_U8, 64, 64);
		sc_tstats_add(&s, "l.weight_scale", 14, ST_F8_E4M3, 4, 4);
		struct classify_in in = { .decl = &d, .stats = &s, .have_tensors = size % 2 };
		struct classify_out o;
		sc_classify(&in, &o);
	}
	if (sc_quant_decl_from_json(j, "fuzz", &d, &e) == 0 && d.format > FMT_COUNT)
		__builtin_trap();
	json_decref(j);
	return 0;
}
