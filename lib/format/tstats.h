/* Per-model tensor statistics gathered from headers: bytes, elements and
 * tensors by dtype and by the role a tensor's name gives it, so the
 * classifier and the parameter count need no second pass over the names. */
#ifndef SC_TSTATS_H
#define SC_TSTATS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include "dtype.h"

/* What a tensor is, from its name and dtype. */
enum tcat {
	TC_PLAIN,      /* ordinary weights: one parameter an element */
	TC_PACKED_U8,  /* U8 weight / weight_packed: two 4-bit values a byte when quantized */
	TC_MX_BLOCKS,  /* gpt-oss MXFP4 *_blocks: two e2m1 values a byte */
	TC_PACKED_I32, /* AWQ/GPTQ qweight, compressed-tensors int weight_packed */
	TC_FP8_WEIGHT, /* F8 weight */
	TC_INT8_WEIGHT,/* I8 weight */
	TC_AUX,        /* scales, zero points, g_idx, global scales: not parameters */
	TC_COUNT
};

/* Only uint64_t counters: sc_tstats_merge adds them field by field. */
struct tstats {
	uint64_t tensors, bytes;
	/* [dtype][category], with expert tensors counted again in expert_elems */
	uint64_t elems[ST_DTYPE_COUNT][TC_COUNT];
	uint64_t expert_elems[ST_DTYPE_COUNT][TC_COUNT];
	uint64_t dtype_tensors[ST_DTYPE_COUNT], dtype_bytes[ST_DTYPE_COUNT];
	uint64_t cat_bytes[TC_COUNT];
	uint64_t n_f8_weight_scale;  /* F8_E4M3 weight_scale: NVFP4 evidence */
	uint64_t n_scale_inv, n_absmax, n_g_idx;
	/* GGUF: by ggml type */
	uint64_t ggml_tensors[GGML_TYPE_COUNT], ggml_bytes[GGML_TYPE_COUNT];
	uint64_t ggml_elems[GGML_TYPE_COUNT], ggml_expert_elems[GGML_TYPE_COUNT];
};

enum tcat sc_tcat_of(const char *name, size_t len, enum st_dtype dt);
bool sc_tensor_is_expert(const char *name, size_t len);

/* name: len bytes, not necessarily NUL-terminated */
void sc_tstats_add(struct tstats *s, const char *name, size_t len, enum st_dtype dt, uint64_t elems, uint64_t bytes);
/* dst += src, field by field. */
void sc_tstats_merge(struct tstats *dst, const struct tstats *src);
void sc_tstats_add_ggml(struct tstats *s, const char *name, uint32_t type, uint64_t elems, uint64_t bytes);

/* Logical parameters a stored element of this category counts for
 * (packed 4-bit: 2 a byte, 8 an I32 at 4 bits; scales: 0). */
unsigned sc_tcat_params_per_elem(enum tcat c, bool packed_is_4bit, int bits);

struct param_count {
	uint64_t total, expert;
	uint64_t by_dtype[ST_DTYPE_COUNT];
};
void sc_tstats_params(const struct tstats *s, bool packed_is_4bit, int bits, struct param_count *ret);

#endif
