#include "quantcfg.h"
#include "../base/json.h"
#include "hfconfig.h"
#include "../base/util.h"

#include <ctype.h>
#include <strings.h>
#include <sys/stat.h>

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int int_of(json_t *o, const char *key, int dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static bool contains_ci(const char *s, const char *needle)
{
	size_t n = strlen(needle);
	for (; *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return false;
}

static enum sc_quant_method method_from_name(const char *m)
{
	static const struct { const char *name; enum sc_quant_method q; } map[] = {
		{ "modelopt", QM_MODELOPT }, { "modelopt_fp4", QM_MODELOPT }, { "modelopt_fp8", QM_MODELOPT },
		{ "compressed-tensors", QM_COMPRESSED_TENSORS }, { "compressed_tensors", QM_COMPRESSED_TENSORS },
		{ "fp8", QM_FP8 }, { "mxfp4", QM_MXFP4 }, { "awq", QM_AWQ }, { "gptq", QM_GPTQ },
		{ "bitsandbytes", QM_BITSANDBYTES },
		/* the kernels' names for the same checkpoints (vllm/model_executor/
		 * layers/quantization/__init__.py QUANTIZATION_METHODS) */
		{ "gptq_marlin", QM_GPTQ }, { "gptq_marlin_24", QM_GPTQ }, { "awq_marlin", QM_AWQ },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcasecmp(m, map[i].name) == 0)
			return map[i].q;
	return QM_UNKNOWN;
}

static int format_from_bits(const char *type, int bits)
{
	bool fl = type && strcasecmp(type, "float") == 0;
	if (bits == 8)
		return fl ? FMT_FP8 : FMT_INT8;
	if (bits == 4)
		return fl ? FMT_NVFP4 : FMT_INT4;
	/* 2- and 3-bit have no name here: unknown, never a neighbour */
	return FMT_UNKNOWN;
}

static enum sc_kv_dtype kv_from_algo(const char *a)
{
	if (!a)
		return KV_NONE;
	if (contains_ci(a, "FP4"))
		return KV_NVFP4;
	if (contains_ci(a, "FP8"))
		return KV_FP8;
	if (contains_ci(a, "INT8"))
		return KV_INT8;
	return KV_NONE;
}

static enum sc_kv_dtype kv_from_scheme(json_t *s)
{
	if (!json_is_object(s))
		return KV_NONE;
	int f = format_from_bits(str_of(s, "type"), int_of(s, "num_bits", 0));
	return f == FMT_FP8 ? KV_FP8 : f == FMT_NVFP4 ? KV_NVFP4 : f == FMT_INT8 ? KV_INT8 : KV_NONE;
}

static int modelopt_format(const char *algo)
{
	if (!algo)
		return FMT_UNKNOWN;
	if (contains_ci(algo, "MIXED"))
		return FMT_MIXED;
	if (contains_ci(algo, "MXFP4"))
		return FMT_MXFP4;
	if (contains_ci(algo, "FP4"))
		return FMT_NVFP4;
	if (contains_ci(algo, "FP8"))
		return FMT_FP8;
	if (contains_ci(algo, "INT4") || contains_ci(algo, "W4A"))
		return FMT_INT4;
	if (contains_ci(algo, "INT8") || contains_ci(algo, "W8A"))
		return FMT_INT8;
	return FMT_UNKNOWN;
}

static int ct_format_name(const char *f, int bits, const char *type)
{
	if (!f)
		return -2;
	if (strcasecmp(f, "nvfp4-pack-quantized") == 0)
		return FMT_NVFP4;
	if (strcasecmp(f, "mxfp4-pack-quantized") == 0)
		return FMT_MXFP4;
	if (strcasecmp(f, "float-quantized") == 0)
		return bits == 4 ? FMT_NVFP4 : FMT_FP8;
	if (strcasecmp(f, "pack-quantized") == 0)
		return bits == 8 ? FMT_INT8 : FMT_INT4;
	if (strcasecmp(f, "int-quantized") == 0 || strcasecmp(f, "naive-quantized") == 0)
		return format_from_bits(type ? type : "int", bits ? bits : 8);
	if (strcasecmp(f, "mixed-precision") == 0)
		return FMT_MIXED;
	if (strcasecmp(f, "dense") == 0 || contains_ci(f, "sparse") || contains_ci(f, "bitmask") ||
	    contains_ci(f, "24"))
		return -1;
	return FMT_UNKNOWN;
}

static void compressed_tensors(json_t *q, struct quant_decl *d)
{
	const char *fmt = str_of(q, "format");
	json_t *groups = json_object_get(q, "config_groups");
	const char *k;
	json_t *g;
	int seen = -2, bits = 0;
	bool mixed = false;
	snprintf(d->algo, sizeof d->algo, "%s", fmt ? fmt : "");
	json_object_foreach(groups, k, g) {
		json_t *w = json_object_get(g, "weights");
		if (!json_is_object(w))
			continue;
		int b = int_of(w, "num_bits", 0);
		const char *type = str_of(w, "type");
		const char *gfmt = str_of(g, "format");
		int f = ct_format_name(gfmt ? gfmt : fmt, b, type);
		if (f == -2 || f == FMT_UNKNOWN)
			f = format_from_bits(type, b);
		if (seen != -2 && f != seen)
			mixed = true;
		seen = f;
		bits = b;
	}
	d->bits = bits;
	int f = ct_format_name(fmt, bits, NULL);
	if (mixed)
		d->format = FMT_MIXED;
	else if (f >= 0 && f != FMT_UNKNOWN)
		d->format = f;
	else if (f == -1 || seen == -2)
		d->format = -1;  /* dense or sparsity only: the weights' dtype decides */
	else
		d->format = seen;
	d->kv = kv_from_scheme(json_object_get(q, "kv_cache_scheme"));
}

int sc_quant_decl_from_json(json_t *q, const char *source, struct quant_decl *ret, sc_err *e)
{
	*ret = (struct quant_decl){ 0 };
	if (!json_is_object(q))
		return sc_error(e, SC_ENOTOBJ, "%s is not an object", source);
	struct quant_decl d = { .present = true, .format = FMT_UNKNOWN };
	snprintf(d.source, sizeof d.source, "%s", source);
	json_t *mo = json_object_get(q, "quantization");
	json_t *producer = json_object_get(q, "producer");
	const char *m = str_of(q, "quant_method");
	if (json_is_object(mo) || (json_is_object(producer) && !m)) {
		/* hf_quant_config.json as ModelOpt writes it; producers other than
		 * modelopt write the same shape */
		const char *algo = json_is_object(mo) ? str_of(mo, "quant_algo") : NULL;
		d.method = QM_MODELOPT;
		snprintf(d.algo, sizeof d.algo, "%s", algo ? algo : "");
		d.format = modelopt_format(algo);
		d.kv = kv_from_algo(json_is_object(mo) ? str_of(mo, "kv_cache_quant_algo") : NULL);
		*ret = d;
		return 0;
	}
	if (!m && str_of(q, "quant_algo")) {
		/* a flat ModelOpt block without quant_method: SGLang parses it as
		 * ModelOpt (model_config.py _parse_quant_hf_config: "quant_method"
		 * not in quant_cfg -> _parse_modelopt_quant_config) */
		const char *algo = str_of(q, "quant_algo");
		d.method = QM_MODELOPT;
		snprintf(d.algo, sizeof d.algo, "%s", algo);
		d.format = modelopt_format(algo);
		d.kv = kv_from_algo(str_of(q, "kv_cache_quant_algo"));
		*ret = d;
		return 0;
	}
	if (!m) {
		/* AutoGPTQ's quantize_config.json and AutoAWQ's quant_config.json
		 * carry no quant_method */
		if (json_object_get(q, "w_bit") || json_object_get(q, "q_group_size") ||
		    json_object_get(q, "zero_point")) {
			d.method = QM_AWQ;
			d.bits = int_of(q, "w_bit", int_of(q, "bits", 4));
		} else if (json_object_get(q, "bits")) {
			d.method = QM_GPTQ;
			d.bits = int_of(q, "bits", 4);
		} else if (json_object_get(q, "config_groups") || json_object_get(q, "sparsity_config")) {
			d.method = QM_COMPRESSED_TENSORS;
			compressed_tensors(q, &d);
			*ret = d;
			return 0;
		} else
			return sc_error(e, SC_ENOTOBJ, "%s has no quant_method", source);
		snprintf(d.algo, sizeof d.algo, "%s", d.method == QM_AWQ ? "awq" : "gptq");
		d.format = format_from_bits(NULL, d.bits);
		*ret = d;
		return 0;
	}
	d.method = method_from_name(m);
	snprintf(d.algo, sizeof d.algo, "%s", m);
	switch (d.method) {
	case QM_MODELOPT: {
		const char *algo = str_of(q, "quant_algo");
		if (algo)
			snprintf(d.algo, sizeof d.algo, "%s", algo);
		d.format = modelopt_format(algo ? algo : m);
		d.kv = kv_from_algo(str_of(q, "kv_cache_quant_algo"));
		if (!d.kv)
			d.kv = kv_from_scheme(json_object_get(q, "kv_cache_scheme"));
		break;
	}
	case QM_COMPRESSED_TENSORS:
		compressed_tensors(q, &d);
		break;
	case QM_FP8: {
		json_t *bs = json_object_get(q, "weight_block_size");
		d.format = FMT_FP8;
		d.bits = 8;
		if (json_is_array(bs) && json_array_size(bs) == 2) {
			d.block_size[0] = (int)json_integer_value(json_array_get(bs, 0));
			d.block_size[1] = (int)json_integer_value(json_array_get(bs, 1));
		}
		break;
	}
	case QM_MXFP4:
		d.format = FMT_MXFP4;
		d.bits = 4;
		break;
	case QM_AWQ:
	case QM_GPTQ:
		d.bits = int_of(q, "bits", int_of(q, "w_bit", 4));
		d.format = format_from_bits(NULL, d.bits);
		break;
	case QM_BITSANDBYTES: {
		json_t *l4 = json_object_get(q, "load_in_4bit");
		d.format = json_is_true(l4) ? FMT_INT4 : FMT_INT8;
		d.bits = json_is_true(l4) ? 4 : 8;
		break;
	}
	default:
		/* a method an engine registers that sparkctl has no format for
		 * (fbgemm_fp8, quark, auto-round, torchao, hqq, experts_int8,
		 * ...): the tensors tell the format */
		d.format = -1;
		break;
	}
	*ret = d;
	return 0;
}

static int try_file(const char *dir, const char *file, struct quant_decl *ret, bool *found, sc_err *e)
{
	_cleanup_free_ char *p = sc_path_join(dir, file);
	_cleanup_json_ json_t *j = NULL;
	struct stat st;
	if (!p)
		return sc_error(e, -ENOMEM, "out of memory");
	if (stat(p, &st) < 0)
		return 0;
	int r = sc_json_load(p, 16 << 20, &j, e);
	if (r < 0)
		return r;
	*found = true;
	return sc_quant_decl_from_json(j, file, ret, e);
}

int sc_quant_decl_find(const char *dir, json_t *config, struct quant_decl *ret, sc_err *e)
{
	*ret = (struct quant_decl){ 0 };
	static const char *const keys[] = { "quantization_config", "compression_config" };
	bool found = false;
	int r;
	for (size_t i = 0; config && i < ARRAY_SIZE(keys); i++) {
		json_t *q = json_object_get(config, keys[i]);
		if (json_is_object(q)) {
			char src[64];
			snprintf(src, sizeof src, "config.json %s", keys[i]);
			return sc_quant_decl_from_json(q, src, ret, e);
		}
	}
	json_t *tq = config ? json_object_get(json_object_get(config, "text_config"), "quantization_config") : NULL;
	if (json_is_object(tq))
		return sc_quant_decl_from_json(tq, "config.json text_config.quantization_config", ret, e);
	static const char *const files[] = {
		"hf_quant_config.json", "quantization_config.json", "quant_config.json", "quantize_config.json",
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if ((r = try_file(dir, files[i], ret, &found, e)) < 0)
			return r;
		if (found)
			return 0;
	}
	*ret = (struct quant_decl){ .present = false, .method = QM_NONE, .format = -1 };
	return 0;
}
