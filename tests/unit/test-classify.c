/* The quantization declaration and the classifier: each scheme of
 * doc/FACTS.md, the real configs, the traps, and the tensors-win rule. */
#include "unit.h"
#include "../../lib/base/json.h"
#include "../../lib/format/classify.h"
#include "../../lib/format/hfconfig.h"
#include "../../lib/format/quantcfg.h"

static struct quant_decl decl_of(const char *json)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	struct quant_decl d;
	sc_err e;
	assert_non_null(j);
	assert_int_equal(sc_quant_decl_from_json(j, "test", &d, &e), 0);
	json_decref(j);
	return d;
}

static void check(const char *json, int format, enum sc_quant_method qm, enum sc_kv_dtype kv)
{
	struct quant_decl d = decl_of(json);
	if (d.format != format || d.method != qm || d.kv != kv)
		print_error("%s: format %d method %d kv %d\n", json, d.format, d.method, d.kv);
	assert_int_equal(d.format, format);
	assert_int_equal(d.method, qm);
	assert_int_equal(d.kv, kv);
}

static void modelopt_declarations(void **state)
{
	check("{\"producer\":{\"name\":\"modelopt\",\"version\":\"0.29\"},\"quantization\":{\"quant_algo\":\"NVFP4\","
	      "\"kv_cache_quant_algo\":\"FP8\",\"group_size\":16}}", FMT_NVFP4, QM_MODELOPT, KV_FP8);
	check("{\"producer\":{\"name\":\"modelopt\"},\"quantization\":{\"quant_algo\":\"FP8\",\"kv_cache_quant_algo\":null}}",
	      FMT_FP8, QM_MODELOPT, KV_NONE);
	check("{\"producer\":{\"name\":\"modelopt\"},\"quantization\":{\"quant_algo\":\"MIXED_PRECISION\"}}",
	      FMT_MIXED, QM_MODELOPT, KV_NONE);
	/* another producer writing the ModelOpt shape */
	check("{\"producer\":{\"name\":\"other-tool\"},\"quantization\":{\"quant_algo\":\"NVFP4\"}}",
	      FMT_NVFP4, QM_MODELOPT, KV_NONE);
	/* newer exports in config.json */
	check("{\"quant_method\":\"modelopt\",\"quant_algo\":\"NVFP4\",\"kv_cache_quant_algo\":\"NVFP4\"}",
	      FMT_NVFP4, QM_MODELOPT, KV_NVFP4);
}

static void compressed_tensors_formats(void **state)
{
	check("{\"quant_method\":\"compressed-tensors\",\"format\":\"nvfp4-pack-quantized\",\"config_groups\":{\"g\":"
	      "{\"weights\":{\"num_bits\":4,\"type\":\"float\"}}}}", FMT_NVFP4, QM_COMPRESSED_TENSORS, KV_NONE);
	check("{\"quant_method\":\"compressed_tensors\",\"format\":\"float-quantized\",\"config_groups\":{\"g\":"
	      "{\"weights\":{\"num_bits\":8,\"type\":\"float\"}}},\"kv_cache_scheme\":{\"num_bits\":8,\"type\":\"float\"}}",
	      FMT_FP8, QM_COMPRESSED_TENSORS, KV_FP8);
	check("{\"quant_method\":\"COMPRESSED-TENSORS\",\"format\":\"mxfp4-pack-quantized\"}", FMT_MXFP4,
	      QM_COMPRESSED_TENSORS, KV_NONE);
	check("{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\",\"config_groups\":{\"g\":"
	      "{\"weights\":{\"num_bits\":8,\"type\":\"int\"}}}}", FMT_INT8, QM_COMPRESSED_TENSORS, KV_NONE);
	check("{\"quant_method\":\"compressed-tensors\",\"format\":\"int-quantized\",\"config_groups\":{\"g\":"
	      "{\"weights\":{\"num_bits\":8,\"type\":\"int\"}}},\"kv_cache_scheme\":{\"num_bits\":8,\"type\":\"int\"}}",
	      FMT_INT8, QM_COMPRESSED_TENSORS, KV_INT8);
	check("{\"quant_method\":\"compressed-tensors\",\"format\":\"mixed-precision\"}", FMT_MIXED,
	      QM_COMPRESSED_TENSORS, KV_NONE);
	/* sparsity only, or dense: the weights decide */
	check("{\"quant_method\":\"compressed-tensors\",\"format\":\"dense\",\"sparsity_config\":{\"format\":\"dense\"}}",
	      -1, QM_COMPRESSED_TENSORS, KV_NONE);
	check("{\"quant_method\":\"compressed-tensors\",\"sparsity_config\":{\"format\":\"sparse-24-bitmask\"}}",
	      -1, QM_COMPRESSED_TENSORS, KV_NONE);
}

static void several_groups_of_different_schemes_are_mixed(void **state)
{
	/* "NVFP4 + FP8 mixed": not the first group's scheme */
	check("{\"quant_method\":\"compressed-tensors\",\"format\":\"nvfp4-pack-quantized\",\"config_groups\":{"
	      "\"g0\":{\"weights\":{\"num_bits\":4,\"type\":\"float\"}},"
	      "\"g1\":{\"format\":\"float-quantized\",\"weights\":{\"num_bits\":8,\"type\":\"float\"}}}}",
	      FMT_MIXED, QM_COMPRESSED_TENSORS, KV_NONE);
	check("{\"quant_method\":\"compressed-tensors\",\"config_groups\":{"
	      "\"g0\":{\"weights\":{\"num_bits\":4,\"type\":\"float\"}},"
	      "\"g1\":{\"weights\":{\"num_bits\":4,\"type\":\"float\"}}}}", FMT_NVFP4, QM_COMPRESSED_TENSORS, KV_NONE);
}

static void other_methods(void **state)
{
	check("{\"quant_method\":\"fp8\",\"fmt\":\"e4m3\",\"activation_scheme\":\"dynamic\",\"weight_block_size\":[128,128]}",
	      FMT_FP8, QM_FP8, KV_NONE);
	assert_int_equal(decl_of("{\"quant_method\":\"fp8\",\"weight_block_size\":[128,64]}").block_size[1], 64);
	check("{\"quant_method\":\"mxfp4\",\"modules_to_not_convert\":[\"lm_head\"]}", FMT_MXFP4, QM_MXFP4, KV_NONE);
	check("{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":128,\"zero_point\":true}", FMT_INT4, QM_AWQ, KV_NONE);
	check("{\"quant_method\":\"GPTQ\",\"bits\":8,\"group_size\":128}", FMT_INT8, QM_GPTQ, KV_NONE);
	check("{\"quant_method\":\"bitsandbytes\",\"load_in_4bit\":true,\"bnb_4bit_quant_type\":\"nf4\"}", FMT_INT4,
	      QM_BITSANDBYTES, KV_NONE);
	check("{\"quant_method\":\"bitsandbytes\",\"load_in_8bit\":true}", FMT_INT8, QM_BITSANDBYTES, KV_NONE);
	/* a method an engine registers and sparkctl has no format for: the
	 * tensors decide (-1), no mismatch against "unknown" */
	check("{\"quant_method\":\"hqq\"}", -1, QM_UNKNOWN, KV_NONE);
	check("{\"quant_method\":\"fbgemm_fp8\"}", -1, QM_UNKNOWN, KV_NONE);
	check("{\"quant_method\":\"gptq_marlin\",\"bits\":4}", FMT_INT4, QM_GPTQ, KV_NONE);
	check("{\"quant_method\":\"awq_marlin\",\"bits\":4}", FMT_INT4, QM_AWQ, KV_NONE);
	/* 3-bit GPTQ: unknown, never the neighbour int4 */
	check("{\"quant_method\":\"gptq\",\"bits\":3}", FMT_UNKNOWN, QM_GPTQ, KV_NONE);
	check("{\"bits\":3,\"group_size\":128}", FMT_UNKNOWN, QM_GPTQ, KV_NONE);
	/* a flat ModelOpt block without quant_method, as SGLang reads it */
	check("{\"quant_algo\":\"NVFP4\",\"kv_cache_quant_algo\":\"FP8\",\"group_size\":16}", FMT_NVFP4, QM_MODELOPT, KV_FP8);
	/* AutoGPTQ's quantize_config.json and AutoAWQ's quant_config.json */
	check("{\"bits\":4,\"group_size\":128,\"desc_act\":false}", FMT_INT4, QM_GPTQ, KV_NONE);
	check("{\"w_bit\":4,\"q_group_size\":128,\"zero_point\":true}", FMT_INT4, QM_AWQ, KV_NONE);
}

static void bad_declarations_fail(void **state)
{
	json_t *j = json_loads("{\"foo\":1}", 0, NULL);
	struct quant_decl d;
	sc_err e;
	assert_int_equal(sc_quant_decl_from_json(j, "x", &d, &e), SC_ENOTOBJ);
	json_decref(j);
	j = json_loads("[1]", 0, NULL);
	assert_int_equal(sc_quant_decl_from_json(j, "x", &d, &e), SC_ENOTOBJ);
	json_decref(j);
}

static void real_configs(void **state)
{
	static const struct { const char *file; int format; } s[] = {
		{ "ct-int4_config.json", FMT_INT4 },
		{ "ct-int8_example_quant_config.json", FMT_INT8 },
	};
	for (size_t i = 0; i < 2; i++) {
		char path[256];
		json_t *j;
		sc_err e;
		struct quant_decl d;
		snprintf(path, sizeof path, "%s/%s", FIXTURES, s[i].file);
		assert_int_equal(sc_json_load(path, 1 << 20, &j, &e), 0);
		assert_int_equal(sc_quant_decl_from_json(j, s[i].file, &d, &e), 0);
		assert_int_equal(d.method, QM_COMPRESSED_TENSORS);
		assert_int_equal(d.format, s[i].format);
		json_decref(j);
	}
	/* llm-compressor's config.json carries the older compression_config */
	json_t *cfg;
	sc_err e;
	struct quant_decl d;
	assert_int_equal(sc_json_load(FIXTURES "/llmc-fp8-config.json", 1 << 20, &cfg, &e), 0);
	assert_int_equal(sc_quant_decl_find("/nonexistent", cfg, &d, &e), 0);
	assert_int_equal(d.format, FMT_FP8);
	assert_string_equal(d.source, "config.json compression_config");
	struct hf_config c;
	assert_int_equal(sc_hf_config_from_json(cfg, &c, &e), 0);
	assert_string_equal(c.architecture, "LlamaForCausalLM");
	assert_int_equal(c.num_layers, 22);
	assert_int_equal(c.num_kv_heads, 4);
	sc_hf_config_done(&c);
	json_decref(cfg);
}

static void text_config_declaration_is_found(void **state)
{
	json_t *cfg = json_loads("{\"text_config\":{\"quantization_config\":{\"quant_method\":\"fp8\"}}}", 0, NULL);
	struct quant_decl d;
	sc_err e;
	assert_int_equal(sc_quant_decl_find("/nonexistent", cfg, &d, &e), 0);
	assert_true(d.present);
	assert_int_equal(d.method, QM_FP8);
	json_decref(cfg);
	assert_int_equal(sc_quant_decl_find("/nonexistent", NULL, &d, &e), 0);
	assert_false(d.present);
}

static void add(struct tstats *s, const char *name, enum st_dtype dt, uint64_t elems)
{
	sc_tstats_add(s, name, strlen(name), dt, elems, elems * sc_st_dtype_bits(dt) / 8);
}

static void tensor_categories_and_logical_params(void **state)
{
	assert_int_equal(sc_tcat_of("l.weight", 8, ST_U8), TC_PACKED_U8);
	assert_int_equal(sc_tcat_of("l.weight_packed", 15, ST_I32), TC_PACKED_I32);
	assert_int_equal(sc_tcat_of("l.qweight", 9, ST_I32), TC_PACKED_I32);
	assert_int_equal(sc_tcat_of("e.gate_up_proj_blocks", 21, ST_U8), TC_MX_BLOCKS);
	assert_int_equal(sc_tcat_of("e.gate_up_proj_scales", 21, ST_U8), TC_AUX);
	assert_int_equal(sc_tcat_of("l.weight_scale_2", 16, ST_F32), TC_AUX);
	assert_int_equal(sc_tcat_of("l.g_idx", 7, ST_I32), TC_AUX);
	assert_int_equal(sc_tcat_of("l.weight", 8, ST_F8_E4M3), TC_FP8_WEIGHT);
	assert_int_equal(sc_tcat_of("norm.weight", 11, ST_BF16), TC_PLAIN);
	assert_int_equal(sc_tcat_of("l.weight.quant_state.bitsandbytes__nf4", 38, ST_U8), TC_AUX);
	struct tstats s = { 0 };
	add(&s, "a.weight", ST_U8, 8);          /* 16 params when packed */
	add(&s, "a.weight_scale", ST_F8_E4M3, 1);
	add(&s, "b.qweight", ST_I32, 2);        /* 16 params at 4 bits */
	add(&s, "n.weight", ST_BF16, 10);
	add(&s, "m.experts.0.w.weight", ST_BF16, 6);
	struct param_count p;
	sc_tstats_params(&s, true, 4, &p);
	assert_int_equal(p.total, 16 + 16 + 10 + 6);
	assert_int_equal(p.expert, 6);
	assert_int_equal(p.by_dtype[ST_U8], 16);
	sc_tstats_params(&s, true, 8, &p);
	assert_int_equal(p.by_dtype[ST_I32], 8);
}

static struct classify_out run(const struct quant_decl *d, const char *torch, const struct tstats *s, bool have)
{
	struct classify_in in = { .decl = d, .torch_dtype = torch, .stats = s, .have_tensors = have };
	struct classify_out o;
	sc_classify(&in, &o);
	return o;
}

/* The needle anywhere, at either end, after a false start on an 'x'; only
 * within the given length; GGUF's spelling only under "blk.". */
static void expert_tensor_names(void **state)
{
	(void)state;
	assert_true(sc_tensor_is_expert(".experts.0", 10));
	assert_true(sc_tensor_is_expert("model.layers.3.mlp.experts.17.down_proj.weight", 47));
	assert_true(sc_tensor_is_expert("x.xperts.experts.", 17));
	assert_true(sc_tensor_is_expert("blk.3.ffn_gate_exps.weight", 26));
	assert_false(sc_tensor_is_expert("model.layers.3.mlp.experts.17", 22));
	assert_false(sc_tensor_is_expert("model.layers.3.mlp.shared_expert.gate_proj.weight", 49));
	assert_false(sc_tensor_is_expert("blk.3.ffn_gate.experts.weight", 29));
	assert_false(sc_tensor_is_expert("m.ffn_gate_exps.weight", 22));
	assert_false(sc_tensor_is_expert("experts.0.weight", 16));
	assert_false(sc_tensor_is_expert("x", 1));
	assert_false(sc_tensor_is_expert("", 0));
}

static void tensors_win_over_the_declaration(void **state)
{
	struct tstats bf = { 0 };
	add(&bf, "l.weight", ST_BF16, 100);
	struct quant_decl d = decl_of("{\"producer\":{\"name\":\"modelopt\"},\"quantization\":{\"quant_algo\":\"NVFP4\"}}");
	struct classify_out o = run(&d, NULL, &bf, true);
	assert_int_equal(o.format, FMT_BF16);
	assert_int_equal(o.quant_method, QM_MODELOPT);
	assert_non_null(strstr(o.mismatch, "declares nvfp4"));
	/* with the tensors to back it, the declaration stands */
	struct tstats nv = { 0 };
	add(&nv, "l.weight", ST_U8, 100);
	add(&nv, "l.weight_scale", ST_F8_E4M3, 12);
	add(&nv, "n.weight", ST_BF16, 10);
	o = run(&d, NULL, &nv, true);
	assert_int_equal(o.format, FMT_NVFP4);
	assert_string_equal(o.mismatch, "");
	/* no tensors read (a stub): the declaration is all there is */
	o = run(&d, NULL, &bf, false);
	assert_int_equal(o.format, FMT_NVFP4);
}

static void undeclared_tensors(void **state)
{
	struct tstats f8 = { 0 };
	add(&f8, "l.weight", ST_F8_E4M3, 100);
	add(&f8, "l.weight_scale_inv", ST_F32, 1);
	struct classify_out o = run(NULL, NULL, &f8, true);
	assert_int_equal(o.format, FMT_FP8);
	assert_int_equal(o.quant_method, QM_UNKNOWN);
	struct tstats f32 = { 0 };
	add(&f32, "l.weight", ST_F32, 100);
	add(&f32, "n.weight", ST_BF16, 4);
	o = run(NULL, "bfloat16", &f32, true);
	assert_int_equal(o.format, FMT_FP32);
	assert_int_equal(o.quant_method, QM_NONE);
	assert_non_null(strstr(o.mismatch, "torch_dtype is bfloat16"));
	o = run(NULL, "float32", &f32, true);
	assert_string_equal(o.mismatch, "");
	struct tstats mixed = { 0 };
	add(&mixed, "a.weight", ST_U8, 100);
	add(&mixed, "a.weight_scale", ST_F8_E4M3, 12);
	add(&mixed, "b.weight", ST_F8_E4M3, 100);
	o = run(NULL, NULL, &mixed, true);
	assert_int_equal(o.format, FMT_MIXED);
	struct tstats none = { 0 };
	o = run(NULL, NULL, &none, true);
	assert_int_equal(o.format, FMT_UNKNOWN);
	/* most bytes in F64: unknown with the dtype named, not "bf16" after
	 * the minority norms */
	struct tstats f64 = { 0 };
	add(&f64, "l.weight", ST_F64, 100);
	add(&f64, "n.weight", ST_BF16, 4);
	o = run(NULL, NULL, &f64, true);
	assert_int_equal(o.format, FMT_UNKNOWN);
	assert_non_null(strstr(o.mismatch, "most bytes are F64"));
	struct tstats ints = { 0 };
	add(&ints, "ids", ST_I64, 100);
	o = run(NULL, NULL, &ints, true);
	assert_int_equal(o.format, FMT_UNKNOWN);
	assert_non_null(strstr(o.mismatch, "most bytes are I64"));
}

/* GPTQ at 8 bits packs its weights into I32 as at 4: int8, no mismatch */
static void gptq_8bit_packed_in_i32(void **state)
{
	struct quant_decl d = decl_of("{\"quant_method\":\"gptq\",\"bits\":8,\"group_size\":128}");
	struct tstats s = { 0 };
	add(&s, "l.qweight", ST_I32, 100);
	add(&s, "l.scales", ST_F16, 4);
	struct classify_out o = run(&d, NULL, &s, true);
	assert_int_equal(o.format, FMT_INT8);
	assert_string_equal(o.mismatch, "");
	d = decl_of("{\"quant_method\":\"gptq\",\"bits\":3}");
	o = run(&d, NULL, &s, true);
	assert_int_equal(o.format, FMT_UNKNOWN);
	assert_non_null(strstr(o.mismatch, "gptq at 3 bits"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(modelopt_declarations),
		cmocka_unit_test(compressed_tensors_formats),
		cmocka_unit_test(several_groups_of_different_schemes_are_mixed),
		cmocka_unit_test(other_methods),
		cmocka_unit_test(bad_declarations_fail),
		cmocka_unit_test(real_configs),
		cmocka_unit_test(text_config_declaration_is_found),
		cmocka_unit_test(tensor_categories_and_logical_params),
		cmocka_unit_test(expert_tensor_names),
		cmocka_unit_test(tensors_win_over_the_declaration),
		cmocka_unit_test(undeclared_tensors),
		cmocka_unit_test(gptq_8bit_packed_in_i32),
	};
	return RUN(tests);
}
