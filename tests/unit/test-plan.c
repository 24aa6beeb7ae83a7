/* The plan of (model, engine): each engine's longest context, its KV cache
 * per token, the flags sparkctl passes and the memory the engine will
 * have. The figures come from the engines' code, cited in plan.c. */
#include "unit.h"
#include "../../lib/engine/plan.h"
#include "../../lib/format/tstats.h"

#include <jansson.h>

static struct hf_config config_of(const char *json)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	struct hf_config c;
	sc_err e;
	if (!j)
		fail_msg("bad test JSON: %s", je.text);
	assert_int_equal(sc_hf_config_from_json(j, &c, &e), 0);
	json_decref(j);
	return c;
}

static uint64_t max_of(enum engine_kind k, const char *json, const char **key)
{
	struct hf_config c = config_of(json);
	uint64_t r = sc_engine_max_context(k, &c, key);
	sc_hf_config_done(&c);
	return r;
}

static void each_engine_derives_its_own_maximum(void **state)
{
	const char *k;
	/* Llama-3.1: llama3 rope is never multiplied */
	const char *llama31 = "{\"max_position_embeddings\":131072,\"rope_scaling\":{\"factor\":8.0,\"rope_type\":\"llama3\","
			      "\"original_max_position_embeddings\":8192}}";
	assert_int_equal(max_of(ENGINE_SGLANG, llama31, &k), 131072);
	assert_int_equal(max_of(ENGINE_VLLM, llama31, &k), 131072);
	/* Qwen2.5 with YaRN: vLLM multiplies the original, SGLang does not
	 * when the original is given */
	const char *yarn = "{\"max_position_embeddings\":32768,\"rope_scaling\":{\"factor\":4.0,\"type\":\"yarn\","
			   "\"original_max_position_embeddings\":32768}}";
	assert_int_equal(max_of(ENGINE_SGLANG, yarn, &k), 32768);
	assert_int_equal(max_of(ENGINE_VLLM, yarn, &k), 131072);
	/* linear rope without an original: both multiply */
	const char *linear = "{\"max_position_embeddings\":4096,\"rope_scaling\":{\"factor\":2.0,\"type\":\"linear\"}}";
	assert_int_equal(max_of(ENGINE_SGLANG, linear, &k), 8192);
	assert_int_equal(max_of(ENGINE_VLLM, linear, &k), 8192);
	/* Command-R: model_max_length wins in vLLM; first in SGLang's order */
	const char *cohere = "{\"max_position_embeddings\":131072,\"model_max_length\":8192}";
	assert_int_equal(max_of(ENGINE_VLLM, cohere, &k), 8192);
	assert_string_equal(k, "model_max_length");
	assert_int_equal(max_of(ENGINE_SGLANG, cohere, &k), 8192);
	/* ChatGLM: seq_length before max_position_embeddings (SGLang), the
	 * smallest (vLLM) */
	const char *glm = "{\"max_position_embeddings\":131072,\"seq_length\":32768}";
	assert_int_equal(max_of(ENGINE_SGLANG, glm, &k), 32768);
	assert_string_equal(k, "seq_length");
	assert_int_equal(max_of(ENGINE_VLLM, glm, &k), 32768);
	/* Gemma-3: vLLM does not scale again; SGLang's rule does */
	const char *gemma3 = "{\"model_type\":\"gemma3_text\",\"max_position_embeddings\":131072,"
			     "\"rope_scaling\":{\"factor\":8.0,\"rope_type\":\"linear\"}}";
	assert_int_equal(max_of(ENGINE_VLLM, gemma3, &k), 131072);
	assert_int_equal(max_of(ENGINE_SGLANG, gemma3, &k), 1048576);
	/* none of the keys: both assume 2048 */
	assert_int_equal(max_of(ENGINE_SGLANG, "{}", &k), 2048);
	assert_int_equal(max_of(ENGINE_VLLM, "{}", &k), 2048);
	assert_int_equal(max_of(ENGINE_OTHER, "{}", &k), 0);
}

static uint64_t per_token(enum engine_kind k, const char *json, uint64_t *window_bytes, uint64_t *window)
{
	struct hf_config c = config_of(json);
	struct kv_shape s;
	sc_engine_kv_shape(k, &c, 16, &s);
	sc_hf_config_done(&c);
	assert_true(s.known);
	if (window_bytes)
		*window_bytes = s.per_token_window;
	if (window)
		*window = s.window;
	return s.per_token;
}

static void kv_per_token_as_each_engine_sizes_it(void **state)
{
	uint64_t wb, w;
	/* Gemma-2-9B: no layer_types, every other layer slides (4096);
	 * SGLang keeps all 42 layers whole: 42 x 2 x 8 x 256 x 2 bytes */
	const char *gemma2 = "{\"architectures\":[\"Gemma2ForCausalLM\"],\"model_type\":\"gemma2\",\"num_hidden_layers\":42,"
			     "\"num_attention_heads\":16,\"num_key_value_heads\":8,\"head_dim\":256,\"sliding_window\":4096}";
	assert_int_equal(per_token(ENGINE_SGLANG, gemma2, NULL, NULL), 42 * 8192);
	assert_int_equal(per_token(ENGINE_VLLM, gemma2, &wb, &w), 21 * 8192);
	assert_int_equal(wb, 21 * 8192);
	assert_int_equal(w, 4096);
	/* Llama-4-Scout: chunked local attention (8192) on 36 of 48 layers */
	const char *scout = "{\"architectures\":[\"Llama4ForConditionalGeneration\"],\"text_config\":{\"num_hidden_layers\":48,"
			    "\"num_attention_heads\":40,\"num_key_value_heads\":8,\"head_dim\":128,\"attention_chunk_size\":8192}}";
	assert_int_equal(per_token(ENGINE_VLLM, scout, &wb, &w), 12 * 4096);
	assert_int_equal(wb, 36 * 4096);
	assert_int_equal(w, 8192);
	/* SGLang runs it as hybrid SWA: the SWA pool at 0.8 of the full one */
	assert_int_equal(per_token(ENGINE_SGLANG, scout, NULL, NULL), 12 * 4096 + 36 * 4096 * 8 / 10);
	/* Gemma-3-27B: 52 of 62 layers slide (pattern 6); not hybrid in SGLang */
	const char *gemma3 = "{\"architectures\":[\"Gemma3ForConditionalGeneration\"],\"text_config\":{\"model_type\":\"gemma3_text\","
			     "\"num_hidden_layers\":62,\"num_attention_heads\":32,\"num_key_value_heads\":16,\"head_dim\":128,"
			     "\"sliding_window\":1024,\"sliding_window_pattern\":6}}";
	assert_int_equal(per_token(ENGINE_SGLANG, gemma3, NULL, NULL), 62 * 8192);
	assert_int_equal(per_token(ENGINE_VLLM, gemma3, &wb, &w), 10 * 8192);
	assert_int_equal(w, 1024);
	/* Qwen3-Next: linear attention on 3 of every 4 layers, no per-token KV */
	const char *next = "{\"architectures\":[\"Qwen3NextForCausalLM\"],\"num_hidden_layers\":48,\"num_attention_heads\":16,"
			   "\"num_key_value_heads\":2,\"head_dim\":256,\"full_attention_interval\":4}";
	assert_int_equal(per_token(ENGINE_SGLANG, next, NULL, NULL), 12 * 2048);
	assert_int_equal(per_token(ENGINE_VLLM, next, NULL, NULL), 12 * 2048);
	const char *next_lt = "{\"num_hidden_layers\":4,\"num_attention_heads\":16,\"num_key_value_heads\":2,\"head_dim\":256,"
			      "\"layer_types\":[\"linear_attention\",\"linear_attention\",\"linear_attention\",\"full_attention\"]}";
	assert_int_equal(per_token(ENGINE_VLLM, next_lt, NULL, NULL), 2048);
	/* MLA (DeepSeek-V3): (512 + 64) x 61 layers x 2 bytes */
	const char *ds = "{\"num_hidden_layers\":61,\"num_attention_heads\":128,\"num_key_value_heads\":128,\"kv_lora_rank\":512,"
			 "\"qk_rope_head_dim\":64}";
	assert_int_equal(per_token(ENGINE_SGLANG, ds, NULL, NULL), 61 * 576 * 2);
	assert_int_equal(per_token(ENGINE_VLLM, ds, NULL, NULL), 61 * 576 * 2);
	/* GPT-OSS: layer_types alternate; hybrid SWA in SGLang */
	const char *oss = "{\"architectures\":[\"GptOssForCausalLM\"],\"num_hidden_layers\":4,\"num_attention_heads\":64,"
			  "\"num_key_value_heads\":8,\"head_dim\":64,\"sliding_window\":128,\"layer_types\":[\"sliding_attention\","
			  "\"full_attention\",\"sliding_attention\",\"full_attention\"]}";
	assert_int_equal(per_token(ENGINE_SGLANG, oss, NULL, NULL), 2 * 2048 + 2 * 2048 * 8 / 10);
	assert_int_equal(per_token(ENGINE_VLLM, oss, &wb, &w), 2 * 2048);
	assert_int_equal(w, 128);
}

struct fixture {
	struct registry reg;
	struct reg_engine sglang, vllm, llamacpp, blocked;
	struct reg_model entry;
	struct sc_model m;
	struct tstats stats;
	struct hf_config c;
};

static void setup(struct fixture *f, const char *config)
{
	memset(f, 0, sizeof *f);
	f->reg.mem_fraction = 0.85;
	f->sglang = (struct reg_engine){ .name = "sglang", .command = "python3 -m sglang.launch_server {args}" };
	f->vllm = (struct reg_engine){ .name = "vllm", .command = "vllm serve {path} {args}" };
	f->llamacpp = (struct reg_engine){ .name = "llamacpp", .command = "llama-server -m {path} -c {context}" };
	f->entry = (struct reg_model){ .name = "m" };
	f->stats.bytes = 20ULL << 30;
	f->m = (struct sc_model){ .format = FMT_NVFP4, .quant_method = QM_MODELOPT, .kv = KV_FP8, .stats = &f->stats };
	f->c = config_of(config);
}

static struct sc_plan plan(struct fixture *f, const struct reg_engine *en, uint64_t context)
{
	struct sc_plan_in in = { .reg = &f->reg, .entry = &f->entry, .en = en, .m = &f->m, .c = &f->c, .context = context,
				 .mem_total = 120ULL << 30, .mem_avail = 100ULL << 30 };
	struct sc_plan p;
	sc_err e;
	assert_int_equal(sc_plan_make(&in, &p, &e), 0);
	return p;
}

static char *flags_of(const struct sc_plan *p)
{
	static char buf[512];
	buf[0] = '\0';
	for (size_t i = 0; i < p->n_flags; i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", p->flags[i]);
	return buf;
}

static bool noted(const struct sc_plan *p, const char *what)
{
	for (size_t i = 0; i < p->n_notes; i++)
		if (strstr(p->notes[i], what))
			return true;
	return false;
}

#define QWEN3_32B "{\"num_hidden_layers\":64,\"num_attention_heads\":64,\"num_key_value_heads\":8,\"head_dim\":128," \
		  "\"max_position_embeddings\":40960}"

static void flags_are_what_the_estimate_assumed(void **state)
{
	struct fixture f;
	setup(&f, QWEN3_32B);
	/* ModelOpt NVFP4 with its FP8 KV cache: both inferred by the engine,
	 * so neither --quantization nor --kv-cache-dtype; the context of
	 * models.ini and the fraction reach it */
	f.entry.context = 32768;
	struct sc_plan p = plan(&f, &f.sglang, 0);
	assert_string_equal(flags_of(&p), "--mem-fraction-static 0.85 --context-length 32768");
	assert_int_equal(p.context, 32768);
	assert_string_equal(p.kv_dtype, "fp8");
	assert_int_equal(p.kv.per_token, 64 * 2 * 8 * 128);  /* fp8: one byte */
	sc_plan_done(&p);
	p = plan(&f, &f.vllm, 16384);  /* inspect --context wins */
	assert_string_equal(flags_of(&p), "--gpu-memory-utilization 0.85 --max-model-len 16384");
	sc_plan_done(&p);
	/* args win, and the estimate follows them */
	f.entry.args = "--context-length 8192 --mem-fraction-static 0.70 --kv-cache-dtype bf16";
	p = plan(&f, &f.sglang, 0);
	assert_string_equal(flags_of(&p), "");
	assert_int_equal(p.context, 8192);
	assert_true(p.fraction == 0.70);
	assert_string_equal(p.kv_dtype, "bf16");
	assert_true(noted(&p, "args set --context-length 8192: the estimate follows it"));
	assert_true(noted(&p, "args set --mem-fraction-static 0.70"));
	assert_int_equal(p.budget, (uint64_t)((double)(100ULL << 30) * 0.70));
	sc_plan_done(&p);
	/* a compressed-tensors FP8 KV cache needs the flag */
	f.entry.args = NULL;
	f.m.quant_method = QM_COMPRESSED_TENSORS;
	p = plan(&f, &f.vllm, 0);
	assert_non_null(strstr(flags_of(&p), "--kv-cache-dtype fp8"));
	sc_plan_done(&p);
	/* NVFP4 KV: only SGLang runs it */
	f.m.kv = KV_NVFP4;
	p = plan(&f, &f.sglang, 0);
	assert_non_null(strstr(flags_of(&p), "--kv-cache-dtype nvfp4"));
	sc_plan_done(&p);
	p = plan(&f, &f.vllm, 0);
	assert_null(strstr(flags_of(&p), "--kv-cache-dtype"));
	assert_string_equal(p.kv_dtype, "bf16");
	assert_true(noted(&p, "only SGLang runs"));
	sc_plan_done(&p);
	/* GPTQ declared only in quantize_config.json: the engines would load
	 * it unquantized */
	f.m = (struct sc_model){ .format = FMT_INT4, .quant_method = QM_GPTQ, .stats = &f.stats,
				 .decl = { .present = true, .source = "quantize_config.json" } };
	p = plan(&f, &f.sglang, 0);
	assert_non_null(strstr(flags_of(&p), "--quantization gptq"));
	assert_true(noted(&p, "declared only in quantize_config.json"));
	sc_plan_done(&p);
	/* llama.cpp: the context goes into {context}, no flag */
	p = plan(&f, &f.llamacpp, 4096);
	assert_string_equal(flags_of(&p), "");
	assert_true(p.context_in_template);
	assert_int_equal(p.context, 4096);
	sc_plan_done(&p);
	sc_hf_config_done(&f.c);
}

static void context_never_passes_the_engines_maximum(void **state)
{
	struct fixture f;
	setup(&f, QWEN3_32B);
	f.entry.context = 131072;
	struct sc_plan p = plan(&f, &f.sglang, 0);
	assert_int_equal(p.context, 40960);
	assert_string_equal(flags_of(&p), "--mem-fraction-static 0.85 --context-length 40960");
	assert_true(noted(&p, "context in models.ini 131072 is more than sglang accepts, 40960 (max_position_embeddings): capped"));
	sc_plan_done(&p);
	/* in args it is the engine's own refusal to come */
	f.entry.context = 0;
	f.entry.args = "--max-model-len 65536";
	p = plan(&f, &f.vllm, 0);
	assert_true(noted(&p, "vllm will refuse to start: args ask for 65536 tokens, it accepts at most 40960"));
	sc_plan_done(&p);
	/* no context asked: the engine's default when it fits, else the fit */
	f.entry.args = NULL;
	p = plan(&f, &f.sglang, 0);
	assert_int_equal(p.context, 40960);
	assert_string_equal(flags_of(&p), "--mem-fraction-static 0.85");
	sc_plan_done(&p);
	f.stats.bytes = 80ULL << 30;  /* 85 GiB budget: 3 GiB left for KV */
	p = plan(&f, &f.sglang, 0);
	assert_true(p.context > 0 && p.context < 40960);
	assert_true(noted(&p, "the budget caps the context at"));
	assert_true(p.need <= p.budget);
	sc_plan_done(&p);
	sc_hf_config_done(&f.c);
}

static void budget_is_what_each_engine_takes(void **state)
{
	struct fixture f;
	setup(&f, QWEN3_32B);
	struct sc_plan p = plan(&f, &f.sglang, 0);
	assert_int_equal(p.budget, (uint64_t)((double)(100ULL << 30) * 0.85));  /* of MemAvailable */
	assert_int_equal(p.start_free, 0);
	assert_true(strstr(p.budget_basis, "MemAvailable") != NULL);
	sc_plan_done(&p);
	p = plan(&f, &f.vllm, 0);
	assert_int_equal(p.budget, (uint64_t)((double)(120ULL << 30) * 0.85));  /* of the total */
	assert_int_equal(p.start_free, p.budget);
	assert_false(p.fits);  /* 102 GiB wanted free, 100 GiB is */
	sc_plan_done(&p);
	f.reg.mem_fraction = 0.80;  /* 96 GiB */
	p = plan(&f, &f.vllm, 0);
	assert_true(p.fits);
	assert_false(noted(&p, "vLLM will refuse to start"));
	sc_plan_done(&p);
	f.reg.mem_fraction = 0.90;  /* 108 GiB of 120 must be free, 100 is */
	p = plan(&f, &f.vllm, 0);
	assert_false(p.fits);
	assert_true(noted(&p, "vLLM will refuse to start"));
	sc_plan_done(&p);
	/* the overhead counts; models.ini sets it */
	f.reg.mem_fraction = 0.85;
	p = plan(&f, &f.sglang, 8192);
	assert_int_equal(p.overhead, SC_DEFAULT_OVERHEAD);
	assert_int_equal(p.need, (20ULL << 30) + SC_DEFAULT_OVERHEAD + 8192ULL * 64 * 2 * 8 * 128);
	sc_plan_done(&p);
	f.entry.overhead = 5ULL << 30;
	p = plan(&f, &f.sglang, 8192);
	assert_int_equal(p.overhead, 5ULL << 30);
	sc_plan_done(&p);
	/* ModelOpt algorithms are a fixed list in each engine: a verdict,
	 * never a forced --quantization */
	snprintf(f.m.decl.algo, sizeof f.m.decl.algo, "W4A8_AWQ");
	p = plan(&f, &f.vllm, 0);
	assert_string_equal(p.reason, "vllm cannot load ModelOpt W4A8_AWQ");
	sc_plan_done(&p);
	p = plan(&f, &f.sglang, 0);
	assert_string_equal(p.reason, "sglang cannot load ModelOpt W4A8_AWQ");
	sc_plan_done(&p);
	snprintf(f.m.decl.algo, sizeof f.m.decl.algo, "NVFP4_AWQ");
	p = plan(&f, &f.sglang, 0);
	assert_null(p.reason);  /* it names FP4 */
	sc_plan_done(&p);
	p = plan(&f, &f.vllm, 0);
	assert_string_equal(p.reason, "vllm cannot load ModelOpt NVFP4_AWQ");
	sc_plan_done(&p);
	snprintf(f.m.decl.algo, sizeof f.m.decl.algo, "FP8_PB_WO");
	p = plan(&f, &f.vllm, 0);
	assert_null(p.reason);
	sc_plan_done(&p);
	f.m.decl.algo[0] = '\0';
	/* an engine that cannot load it: a reason and nothing else */
	char *unsup[] = { "modelopt", NULL };
	f.blocked = (struct reg_engine){ .name = "sglang", .unsupported = unsup, .n_unsupported = 1, .unsupported_line = 7 };
	p = plan(&f, &f.blocked, 0);
	assert_non_null(p.reason);
	assert_non_null(strstr(p.reason, "line 7"));
	assert_int_equal(p.n_flags, 0);
	sc_plan_done(&p);
	sc_hf_config_done(&f.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_engine_derives_its_own_maximum),
		cmocka_unit_test(kv_per_token_as_each_engine_sizes_it),
		cmocka_unit_test(flags_are_what_the_estimate_assumed),
		cmocka_unit_test(context_never_passes_the_engines_maximum),
		cmocka_unit_test(budget_is_what_each_engine_takes),
	};
	return RUN(tests);
}
