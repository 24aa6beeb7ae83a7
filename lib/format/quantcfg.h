/* Where and how a checkpoint declares its quantization, looked up in the
 * order vLLM and SGLang use (doc/FACTS.md "Checkpoint formats"). */
#ifndef SC_QUANTCFG_H
#define SC_QUANTCFG_H

#include <jansson.h>
#include <stdbool.h>

#include "../base/err.h"
#include "vocab.h"

struct quant_decl {
	bool present;
	enum sc_quant_method method;
	char source[80];      /* "config.json quantization_config", "hf_quant_config.json" */
	char algo[64];        /* ModelOpt quant_algo, compressed-tensors format, method as written */
	int format;           /* enum sc_format, or -1: the tensors decide (dense, sparsity only) */
	enum sc_kv_dtype kv;
	int bits;             /* weight bits where declared, else 0 */
	int block_size[2];    /* native FP8 weight_block_size */
};

/* Interpret one quantization object (quantization_config, compression_config
 * or the whole hf_quant_config.json). */
int sc_quant_decl_from_json(json_t *q, const char *source, struct quant_decl *ret, sc_err *e);

/* Look the declaration up for model folder dir; config may be NULL (no
 * config.json). A folder without any declaration gives present == false. */
int sc_quant_decl_find(const char *dir, json_t *config, struct quant_decl *ret, sc_err *e);

#endif
