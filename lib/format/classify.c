#include "classify.h"
#include "dtype.h"
#include "../base/util.h"

#include <stdio.h>
#include <strings.h>

/* The dtype holding most bytes. */
static int largest_dtype(const struct tstats *s)
{
	int best = -1;
	for (int d = 0; d < ST_DTYPE_COUNT; d++)
		if (s->dtype_bytes[d] && (best < 0 || s->dtype_bytes[d] > s->dtype_bytes[best]))
			best = d;
	return best;
}

/* Unquantized weights are named after the dtype with most bytes; when that
 * is one without a format name (F64, integers only), they are unknown,
 * never called after a minority dtype. */
static enum sc_format dominant_float(const struct tstats *s)
{
	int d = largest_dtype(s);
	return d == ST_BF16 ? FMT_BF16 : d == ST_F16 ? FMT_FP16 : d == ST_F32 ? FMT_FP32 : FMT_UNKNOWN;
}

enum sc_format sc_classify_tensors(const struct tstats *s, bool *packed_is_4bit)
{
	/* quantized weight bytes by kind */
	uint64_t nvfp4 = 0, int4 = 0;
	bool packed4 = s->n_f8_weight_scale > 0 || s->n_absmax > 0;
	if (s->n_f8_weight_scale)
		nvfp4 = s->cat_bytes[TC_PACKED_U8];
	else if (s->n_absmax)
		int4 = s->cat_bytes[TC_PACKED_U8];
	int4 += s->cat_bytes[TC_PACKED_I32];
	uint64_t kinds[] = { nvfp4, s->cat_bytes[TC_MX_BLOCKS], int4, s->cat_bytes[TC_FP8_WEIGHT],
			     s->cat_bytes[TC_INT8_WEIGHT] };
	static const enum sc_format fmts[] = { FMT_NVFP4, FMT_MXFP4, FMT_INT4, FMT_FP8, FMT_INT8 };
	int found = -1, n = 0;
	for (int i = 0; i < (int)ARRAY_SIZE(kinds); i++)
		if (kinds[i]) {
			found = i;
			n++;
		}
	if (packed_is_4bit)
		*packed_is_4bit = packed4;
	if (n > 1)
		return FMT_MIXED;
	if (n == 1)
		return fmts[found];
	return dominant_float(s);
}

/* Do the tensors carry what the declaration promises? */
static bool tensors_show(const struct tstats *s, enum sc_format declared, enum sc_format seen)
{
	if (declared == seen)
		return true;
	switch (declared) {
	case FMT_NVFP4:
		return s->cat_bytes[TC_PACKED_U8] > 0;
	case FMT_MXFP4:
		return s->cat_bytes[TC_MX_BLOCKS] > 0 || s->cat_bytes[TC_PACKED_U8] > 0;
	case FMT_FP8:
		return s->cat_bytes[TC_FP8_WEIGHT] > 0;
	case FMT_INT4:
		return s->cat_bytes[TC_PACKED_I32] > 0 || s->cat_bytes[TC_PACKED_U8] > 0;
	case FMT_INT8:
		/* GPTQ and AWQ pack 8-bit weights into I32 as they pack 4-bit */
		return s->cat_bytes[TC_INT8_WEIGHT] > 0 || s->cat_bytes[TC_PACKED_U8] > 0 || s->cat_bytes[TC_PACKED_I32] > 0;
	case FMT_MIXED:
		return seen != FMT_BF16 && seen != FMT_FP16 && seen != FMT_FP32 && seen != FMT_UNKNOWN;
	default:
		return false;
	}
}

static enum sc_format from_torch_dtype(const char *t)
{
	if (!t)
		return FMT_UNKNOWN;
	if (strcasecmp(t, "bfloat16") == 0)
		return FMT_BF16;
	if (strcasecmp(t, "float16") == 0 || strcasecmp(t, "half") == 0)
		return FMT_FP16;
	if (strcasecmp(t, "float32") == 0 || strcasecmp(t, "float") == 0)
		return FMT_FP32;
	return FMT_UNKNOWN;
}

void sc_classify(const struct classify_in *in, struct classify_out *out)
{
	struct classify_out o = { .format = FMT_UNKNOWN, .quant_method = QM_NONE };
	const struct quant_decl *d = in->decl && in->decl->present ? in->decl : NULL;
	if (in->gguf) {
		o.format = FMT_GGUF;
		o.quant_method = QM_GGUF;
		*out = o;
		return;
	}
	bool packed4 = false;
	enum sc_format seen = in->have_tensors ? sc_classify_tensors(in->stats, &packed4) : FMT_UNKNOWN;
	if (d) {
		o.quant_method = d->method;
		o.kv = d->kv;
		if (d->format < 0)
			o.format = in->have_tensors ? seen : from_torch_dtype(in->torch_dtype);
		else if (d->format == FMT_UNKNOWN && d->bits > 0) {
			o.format = FMT_UNKNOWN;
			snprintf(o.mismatch, sizeof o.mismatch, "%s declares %s at %d bits, a width with no format name here",
				 d->source, sc_quant_method_name(d->method), d->bits);
		} else if (!in->have_tensors || tensors_show(in->stats, (enum sc_format)d->format, seen))
			o.format = (enum sc_format)d->format;
		else {
			o.format = seen;
			snprintf(o.mismatch, sizeof o.mismatch,
				 "%s declares %s (%s) but the tensors are %s", d->source,
				 sc_format_name((enum sc_format)d->format), sc_quant_method_name(d->method),
				 sc_format_name(seen));
		}
		/* a 4-bit declaration makes U8 weights packed even without scales */
		o.packed_is_4bit = packed4 || d->format == FMT_NVFP4 || d->format == FMT_INT4 || d->format == FMT_MXFP4 ||
				   d->format == FMT_MIXED || (d->method == QM_BITSANDBYTES && d->bits == 4);
		*out = o;
		return;
	}
	o.packed_is_4bit = packed4;
	if (!in->have_tensors) {
		o.format = from_torch_dtype(in->torch_dtype);
		*out = o;
		return;
	}
	o.format = seen;
	if (seen != FMT_BF16 && seen != FMT_FP16 && seen != FMT_FP32 && seen != FMT_UNKNOWN)
		o.quant_method = QM_UNKNOWN;
	if (seen == FMT_UNKNOWN && largest_dtype(in->stats) >= 0) {
		snprintf(o.mismatch, sizeof o.mismatch, "most bytes are %s, a dtype with no format name here",
			 sc_st_dtype_name((enum st_dtype)largest_dtype(in->stats)));
		*out = o;
		return;
	}
	enum sc_format t = from_torch_dtype(in->torch_dtype);
	if (t != FMT_UNKNOWN && o.quant_method == QM_NONE && seen != FMT_UNKNOWN && t != seen)
		snprintf(o.mismatch, sizeof o.mismatch, "config.json torch_dtype is %s but the tensors are %s",
			 in->torch_dtype, sc_format_name(seen));
	*out = o;
}
