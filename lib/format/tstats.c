#include "tstats.h"
#include "../base/util.h"

static bool is_f8(enum st_dtype dt)
{
	return dt == ST_F8_E4M3 || dt == ST_F8_E5M2 || dt == ST_F8_E4M3FNUZ || dt == ST_F8_E5M2FNUZ;
}

bool sc_tensor_is_expert(const char *name, size_t len)
{
	/* GGUF names begin "blk." and mark experts "_exps."; the others
	 * ".experts.". Both needles have an 'x' third, a rare letter in tensor
	 * names that memchr finds faster than a substring search sets up. */
	const char *needle = len >= 4 && memcmp(name, "blk.", 4) == 0 ? "_exps." : ".experts.";
	size_t nl = strlen(needle);
	const char *end = name + len;
	for (const char *p = name + 2; p < end && (p = memchr(p, 'x', (size_t)(end - p))); p++)
		if ((size_t)(end - p) + 2 >= nl && memcmp(p - 2, needle, nl) == 0)
			return true;
	return false;
}

enum tcat sc_tcat_of(const char *name, size_t len, enum st_dtype dt)
{
	const char *dot = memrchr(name, '.', len);
	const char *base = dot ? dot + 1 : name;
	size_t bl = len - (size_t)(base - name);
#define IS(s) (bl == sizeof(s) - 1 && memcmp(base, s, sizeof(s) - 1) == 0)
#define ENDS(s) sc_endswith_n(base, bl, s)
	/* most frequent first: weights, then the scales that quantized
	 * checkpoints write three of for every weight */
	if (IS("weight")) {
		if (dt == ST_U8)
			return TC_PACKED_U8;
		if (is_f8(dt))
			return TC_FP8_WEIGHT;
		if (dt == ST_I8)
			return TC_INT8_WEIGHT;
		return TC_PLAIN;
	}
	if (ENDS("_scale") || ENDS("_scale_2") || ENDS("_scale_inv"))
		return TC_AUX;
	if (IS("weight_packed") || IS("qweight"))
		return dt == ST_U8 ? TC_PACKED_U8 : dt == ST_I32 ? TC_PACKED_I32 : TC_PLAIN;
	if (ENDS("_blocks") && dt == ST_U8)
		return TC_MX_BLOCKS;
	if (IS("bias"))
		return TC_PLAIN;
	if (ENDS("_zero_point") || ENDS("_g_idx") || IS("weight_shape") || IS("qzeros") || IS("scales") ||
	    IS("g_idx") || IS("absmax") || IS("quant_map") || IS("nested_absmax") || IS("nested_quant_map") ||
	    (ENDS("_scales") && (dt == ST_U8 || dt == ST_F8_E8M0)) || memmem(name, len, ".quant_state.", 13))
		return TC_AUX;
	return TC_PLAIN;
#undef IS
#undef ENDS
}

void sc_tstats_add(struct tstats *s, const char *name, size_t len, enum st_dtype dt, uint64_t elems, uint64_t bytes)
{
	enum tcat c = sc_tcat_of(name, len, dt);
	s->tensors++;
	s->bytes += bytes;
	s->elems[dt][c] += elems;
	if (sc_tensor_is_expert(name, len))
		s->expert_elems[dt][c] += elems;
	s->dtype_tensors[dt]++;
	s->dtype_bytes[dt] += bytes;
	s->cat_bytes[c] += bytes;
	if (c == TC_AUX) {
		if (dt == ST_F8_E4M3 && sc_endswith_n(name, len, ".weight_scale"))
			s->n_f8_weight_scale++;
		else if (sc_endswith_n(name, len, "_scale_inv"))
			s->n_scale_inv++;
		else if (sc_endswith_n(name, len, "absmax"))
			s->n_absmax++;
		else if (sc_endswith_n(name, len, "g_idx"))
			s->n_g_idx++;
	}
}

void sc_tstats_add_ggml(struct tstats *s, const char *name, uint32_t type, uint64_t elems, uint64_t bytes)
{
	if (type >= GGML_TYPE_COUNT)
		return;
	s->tensors++;
	s->bytes += bytes;
	s->ggml_tensors[type]++;
	s->ggml_bytes[type] += bytes;
	s->ggml_elems[type] += elems;
	if (sc_tensor_is_expert(name, strlen(name)))
		s->ggml_expert_elems[type] += elems;
}

unsigned sc_tcat_params_per_elem(enum tcat c, bool packed_is_4bit, int bits)
{
	switch (c) {
	case TC_PACKED_U8:
		return packed_is_4bit ? 2 : 1;
	case TC_MX_BLOCKS:
		return 2;
	case TC_PACKED_I32:
		return bits > 0 && bits <= 32 ? 32 / (unsigned)bits : 8;
	case TC_AUX:
		return 0;
	default:
		return 1;
	}
}

void sc_tstats_params(const struct tstats *s, bool packed_is_4bit, int bits, struct param_count *ret)
{
	struct param_count p = { 0 };
	for (int d = 0; d < ST_DTYPE_COUNT; d++)
		for (int c = 0; c < TC_COUNT; c++) {
			uint64_t k = sc_tcat_params_per_elem((enum tcat)c, packed_is_4bit, bits);
			p.by_dtype[d] += s->elems[d][c] * k;
			p.expert += s->expert_elems[d][c] * k;
		}
	for (int d = 0; d < ST_DTYPE_COUNT; d++)
		p.total += p.by_dtype[d];
	for (int t = 0; t < GGML_TYPE_COUNT; t++) {
		p.total += s->ggml_elems[t];
		p.expert += s->ggml_expert_elems[t];
	}
	*ret = p;
}

_Static_assert(sizeof(struct tstats) % sizeof(uint64_t) == 0, "struct tstats holds only uint64_t counters");

void sc_tstats_merge(struct tstats *dst, const struct tstats *src)
{
	/* every field is a uint64_t counter */
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	for (size_t i = 0; i < sizeof *dst / sizeof(uint64_t); i++)
		d[i] += s[i];
}
