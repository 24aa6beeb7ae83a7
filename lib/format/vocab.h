/* The fixed vocabulary of scan's fields: tests and scripts rely on these
 * exact strings. */
#ifndef SC_VOCAB_H
#define SC_VOCAB_H

enum sc_format {
	FMT_BF16, FMT_FP16, FMT_FP32, FMT_FP8, FMT_NVFP4, FMT_MXFP4, FMT_INT8,
	FMT_INT4, FMT_GGUF, FMT_MIXED, FMT_UNKNOWN, FMT_COUNT
};

enum sc_quant_method {
	QM_NONE, QM_MODELOPT, QM_COMPRESSED_TENSORS, QM_FP8, QM_MXFP4, QM_AWQ,
	QM_GPTQ, QM_BITSANDBYTES, QM_GGUF, QM_UNKNOWN, QM_COUNT
};

enum sc_kv_dtype { KV_NONE, KV_FP8, KV_NVFP4, KV_INT8 };

enum sc_status { ST_OK, ST_INCOMPLETE, ST_STUB, ST_CORRUPT };

const char *sc_format_name(enum sc_format f);
const char *sc_quant_method_name(enum sc_quant_method q);
const char *sc_kv_dtype_name(enum sc_kv_dtype k); /* NULL for KV_NONE */
const char *sc_status_name(enum sc_status s);

#endif
