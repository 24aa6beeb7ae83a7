#include "engine.h"
#include "model_json.h"
#include "util.h"

#include <stdarg.h>

enum engine_kind engine_kind_of(const struct reg_engine *en)
{
	if (strstr(en->name, "sglang") || (en->command && strstr(en->command, "sglang")))
		return ENGINE_SGLANG;
	if (strstr(en->name, "vllm") || (en->command && strstr(en->command, "vllm")))
		return ENGINE_VLLM;
	return ENGINE_OTHER;
}

struct flags {
	char buf[512];
	size_t n;
};

static void add(struct flags *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct flags *f, const char *fmt, ...)
{
	va_list ap;
	if (f->n && f->n < sizeof f->buf - 1)
		f->buf[f->n++] = ' ';
	va_start(ap, fmt);
	int k = vsnprintf(f->buf + f->n, sizeof f->buf - f->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		f->n = f->n + (size_t)k < sizeof f->buf ? f->n + (size_t)k : sizeof f->buf - 1;
}

int engine_model_args(const struct reg_engine *en, const struct sc_model *m, uint64_t context, double mem_fraction,
		      char **ret_args, char **ret_reason)
{
	char why[256];
	*ret_args = *ret_reason = NULL;
	if (sc_engine_reason(en, m, why, sizeof why))
		return (*ret_reason = strdup(why)) ? 0 : -ENOMEM;
	struct flags f = { .n = 0 };
	f.buf[0] = '\0';
	switch (engine_kind_of(en)) {
	case ENGINE_SGLANG:
		/* SGLang reads most schemes from config.json; NVIDIA's Spark
		 * playbooks pass ModelOpt's explicitly */
		if (m->quant_method == QM_MODELOPT && m->format == FMT_NVFP4)
			add(&f, "--quantization modelopt_fp4");
		else if (m->quant_method == QM_MODELOPT && m->format == FMT_FP8)
			add(&f, "--quantization modelopt_fp8");
		if (m->kv == KV_FP8)
			add(&f, "--kv-cache-dtype fp8_e4m3");
		if (context)
			add(&f, "--context-length %llu", (unsigned long long)context);
		if (mem_fraction > 0)
			add(&f, "--mem-fraction-static %.2f", mem_fraction);
		break;
	case ENGINE_VLLM:
		/* vLLM infers the quantization from the checkpoint */
		if (m->kv == KV_FP8)
			add(&f, "--kv-cache-dtype fp8");
		if (context)
			add(&f, "--max-model-len %llu", (unsigned long long)context);
		if (mem_fraction > 0)
			add(&f, "--gpu-memory-utilization %.2f", mem_fraction);
		break;
	default:
		break;
	}
	return (*ret_args = strdup(f.buf)) ? 0 : -ENOMEM;
}
