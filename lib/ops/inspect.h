/* One model in depth: config facts, dtypes, logical and active parameters,
 * memory fit at a context length, and the engine flags that load it. */
#ifndef SC_INSPECT_H
#define SC_INSPECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/err.h"
#include "../format/hfconfig.h"
#include "../format/model.h"
#include "../base/registry.h"
#include "../engine/plan.h"

struct sc_memory {
	bool kv_known;
	uint64_t weights_bytes, kv_bytes_per_token, kv_fixed_bytes, context, kv_bytes, overhead_bytes, total_bytes;
	uint64_t budget_bytes, max_context;
	bool fits;
	char kv_dtype[16];  /* "bf16", "fp8", ... */
};

struct sc_engine_flags {
	const char *engine;  /* the registry's name */
	char *args;          /* the plan's flags as one line; NULL when the engine cannot load the model */
	const char *reason;  /* plan.reason */
	struct sc_plan plan;
};

struct sc_inspection {
	struct sc_model model;
	const struct reg_model *entry;  /* the registry entry, or NULL */
	struct hf_config config;
	bool have_config;
	uint64_t active_params;
	bool active_known;
	struct sc_memory memory;      /* the plan of the model's engine (else the first) */
	const char *memory_engine;    /* which engine that is; NULL: none in the registry */
	struct sc_engine_flags *engines;
	size_t n_engines;
};

struct sc_inspect_opts {
	uint64_t context;     /* 0: the model's own */
	const char *engine;   /* only this engine, or NULL */
	uint64_t mem_total;   /* MemTotal, used when models.ini sets no memory */
	uint64_t mem_avail;   /* MemAvailable now: SGLang's budget and vLLM's start condition */
};

/* target: a [model] name, a model folder or a .safetensors/.gguf file.
 * A model with problems is still inspected: check model.status. */
int sc_inspect(const char *target, const struct registry *reg, const struct sc_inspect_opts *o,
	       struct sc_inspection *ret, sc_err *e);
void sc_inspection_done(struct sc_inspection *x);

/* New reference: the scan fields plus config, dtypes, params, memory and
 * engine flags. */
json_t *sc_inspection_to_json(const struct sc_inspection *x, const struct registry *reg);

/* One row per dtype (or ggml type) with tensors: name, tensors, bytes,
 * logical params. Returns the number of rows written (at most max). */
struct sc_dtype_row {
	const char *name;
	uint64_t tensors, bytes, params;
};
size_t sc_inspection_dtypes(const struct sc_inspection *x, struct sc_dtype_row *rows, size_t max);

#endif
