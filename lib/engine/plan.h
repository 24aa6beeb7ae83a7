/* What sparkctl starts an engine with, and what that costs: one plan per
 * (model, engine). It is the single source of the engine's flags: inspect
 * prints them, serve runs them, serve --dry-run writes them; and the
 * memory estimate is made for exactly those flags, with each engine's own
 * rules (KV cache per token, the longest context it accepts, the memory it
 * takes). The rules and the engines' files they come from are in plan.c. */
#ifndef SC_PLAN_H
#define SC_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/registry.h"
#include "../format/estimate.h"
#include "../format/hfconfig.h"
#include "../format/model.h"
#include "engine.h"

/* Activations of a prefill chunk and CUDA graphs, beside weights and KV
 * cache, when models.ini sets no overhead (models.ini(5) says why). */
#define SC_DEFAULT_OVERHEAD (2ULL << 30)

struct sc_plan_in {
	const struct registry *reg;
	const struct reg_model *entry;   /* NULL: a path, not a registered model */
	const struct reg_engine *en;
	const struct sc_model *m;
	const struct hf_config *c;       /* NULL: no config */
	uint64_t context;                /* asked for (inspect --context); 0: none */
	uint64_t mem_total, mem_avail;   /* /proc/meminfo now */
};

struct sc_plan {
	const char *engine;        /* the registry's name */
	enum engine_kind kind;
	char *reason;              /* the engine cannot load the checkpoint (then no flags) */
	char **flags;              /* sparkctl's flags; the model's args follow them */
	size_t n_flags;
	char *path;                /* {path}: the folder, or for GGUF the (first) .gguf file; NULL: the folder */
	char **notes;              /* where args or limits changed the estimate, one line each */
	size_t n_notes;
	uint64_t context;          /* what the engine gets and the estimate is for; 0: unknown */
	bool context_in_template;  /* the command has {context}: no flag */
	uint64_t engine_max;       /* the longest context the engine accepts; 0: unknown */
	const char *engine_max_key;
	double fraction;
	char kv_dtype[16];
	struct kv_shape kv;
	uint64_t weights, kv_bytes, overhead, need;
	uint64_t budget;           /* what the engine will have for weights, KV and overhead */
	char budget_basis[160];    /* how: "0.85 x MemAvailable 100.0 GiB" */
	uint64_t start_free;       /* vLLM: what must be free when it starts; 0: no such rule */
	bool fits;
	uint64_t max_context_fit;  /* the longest context within the budget and engine_max */
};

int sc_plan_make(const struct sc_plan_in *in, struct sc_plan *ret, sc_err *e);
void sc_plan_done(struct sc_plan *p);

/* The longest context engine kind accepts for config c (0: unknown), and
 * the key it came from. */
uint64_t sc_engine_max_context(enum engine_kind kind, const struct hf_config *c, const char **key);

/* KV cache of config c as engine kind sizes it, at bits per element. */
void sc_engine_kv_shape(enum engine_kind kind, const struct hf_config *c, unsigned bits, struct kv_shape *ret);

#endif
