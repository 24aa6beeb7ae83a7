/* The classifier: format, quantization method, GGUF type and KV cache
 * dtype from the declaration AND the tensors. Where they disagree the
 * tensors win and a dtype-mismatch problem says so. */
#ifndef SC_CLASSIFY_H
#define SC_CLASSIFY_H

#include <stdbool.h>

#include "quantcfg.h"
#include "tstats.h"
#include "vocab.h"

struct classify_in {
	const struct quant_decl *decl;  /* may be NULL or !present */
	const char *torch_dtype;        /* config.json, may be NULL */
	const struct tstats *stats;     /* tensors read from headers */
	bool have_tensors;              /* false: stub, pickle only: trust the declaration */
	bool gguf;
	const char *gguf_type;          /* file-type name, may be NULL */
};

struct classify_out {
	enum sc_format format;
	enum sc_quant_method quant_method;
	enum sc_kv_dtype kv;
	bool packed_is_4bit;  /* U8 weights hold two 4-bit values */
	char mismatch[256];   /* non-empty: a dtype-mismatch problem */
};

void sc_classify(const struct classify_in *in, struct classify_out *out);

/* The format the tensors alone show. */
enum sc_format sc_classify_tensors(const struct tstats *s, bool *packed_is_4bit);

#endif
