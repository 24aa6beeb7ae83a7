#include "vocab.h"

static const char *const formats[FMT_COUNT] = {
	"bf16", "fp16", "fp32", "fp8", "nvfp4", "mxfp4", "int8", "int4", "gguf", "mixed", "unknown",
};
static const char *const methods[QM_COUNT] = {
	"none", "modelopt", "compressed-tensors", "fp8", "mxfp4", "awq", "gptq", "bitsandbytes", "gguf", "unknown",
};

const char *sc_format_name(enum sc_format f) { return (unsigned)f < FMT_COUNT ? formats[f] : "unknown"; }
const char *sc_quant_method_name(enum sc_quant_method q) { return (unsigned)q < QM_COUNT ? methods[q] : "unknown"; }

const char *sc_kv_dtype_name(enum sc_kv_dtype k)
{
	switch (k) {
	case KV_FP8: return "fp8";
	case KV_NVFP4: return "nvfp4";
	case KV_INT8: return "int8";
	default: return 0;
	}
}

const char *sc_status_name(enum sc_status s)
{
	static const char *const names[] = { "ok", "incomplete", "stub", "corrupt" };
	return (unsigned)s < 4 ? names[s] : "corrupt";
}
