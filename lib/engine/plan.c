#include "plan.h"
#include "../base/util.h"
#include "../base/words.h"

#include <math.h>

/* SGLang sizes the pool of a hybrid sliding-window model's SWA layers at
 * this share of the full-attention layers' tokens: server_args.py
 * swa_full_tokens_ratio (default 0.8). */
#define SGLANG_SWA_FULL_TOKENS_RATIO_X10 8

/* Architectures SGLang runs with a separate sliding-window pool:
 * python/sglang/srt/configs/model_config.py is_hybrid_swa_model. Gemma-2
 * and Gemma-3 are not among them: SGLang keeps every layer's KV whole. */
static const char *const sglang_hybrid_swa[] = {
	"Llama4ForConditionalGeneration", "DeepseekV4ForCausalLM", "GptOssForCausalLM", "MiMoV2ForCausalLM",
	"MiMoV2FlashForCausalLM", "Step3p5ForCausalLM", "Step3p7ForConditionalGeneration", "Gemma4ForCausalLM",
	"Gemma4ForConditionalGeneration", "Gemma4UnifiedForConditionalGeneration", "LagunaForCausalLM", NULL,
};

static bool in_list(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (streq(s, *list))
			return true;
	return false;
}

/* ---- the longest context ---- */

/* SGLang: the first key present of this order, times the rope factor
 * unless the config keeps original_max_position_embeddings or the rope
 * type is llama3; 2048 without any (python/sglang/srt/utils/
 * hf_transformers_utils.py CONTEXT_LENGTH_KEYS, get_context_length). */
static uint64_t sglang_max(const struct hf_config *c, const char **key)
{
	static const enum hf_len_key order[] = { HF_MAX_SEQUENCE_LENGTH, HF_SEQ_LENGTH, HF_MAX_SEQ_LEN,
						 HF_MODEL_MAX_LENGTH, HF_MAX_POSITION_EMBEDDINGS };
	double factor = c->rope_factor > 0 && c->rope_original_max < 0 && !streq(c->rope_type, "llama3") ? c->rope_factor : 1;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (c->len_keys[order[i]] > 0) {
			*key = sc_hf_len_key_name(order[i]);
			return (uint64_t)((double)c->len_keys[order[i]] * factor);
		}
	*key = "SGLang's default";
	return 2048;
}

/* vLLM: the smallest of its keys (model_max_length wins where present),
 * times the rope factor for rope types other than su, longrope and llama3
 * (yarn: original_max_position_embeddings times the factor), not for
 * Gemma-3, whose figure is already scaled; 2048 without any
 * (vllm/config/model.py _get_and_verify_max_len). */
static uint64_t vllm_max(const struct hf_config *c, const char **key)
{
	static const enum hf_len_key keys[] = { HF_MAX_POSITION_EMBEDDINGS, HF_N_POSITIONS, HF_MAX_SEQ_LEN, HF_SEQ_LENGTH,
						HF_MODEL_MAX_LENGTH, HF_MAX_TARGET_POSITIONS, HF_MAX_SEQUENCE_LENGTH,
						HF_MAX_SEQ_LENGTH, HF_SEQ_LEN };
	double len = 0;
	*key = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (c->len_keys[keys[i]] > 0 && (!len || (double)c->len_keys[keys[i]] < len)) {
			len = (double)c->len_keys[keys[i]];
			*key = sc_hf_len_key_name(keys[i]);
		}
	if (c->len_keys[HF_MODEL_MAX_LENGTH] > 0) {
		len = (double)c->len_keys[HF_MODEL_MAX_LENGTH];
		*key = "model_max_length";
	}
	if (!len) {
		*key = "vLLM's default";
		return 2048;
	}
	bool gemma3 = c->model_type && strstr(c->model_type, "gemma3");
	if (c->rope_factor > 0 && !gemma3 && !streq(c->rope_type, "su") && !streq(c->rope_type, "longrope") &&
	    !streq(c->rope_type, "llama3")) {
		if (streq(c->rope_type, "yarn") && c->rope_original_max > 0)
			len = (double)c->rope_original_max;
		len *= c->rope_factor;
	}
	return len >= 1e18 ? UINT64_MAX : (uint64_t)len;
}

uint64_t sc_engine_max_context(enum engine_kind kind, const struct hf_config *c, const char **key)
{
	const char *k = NULL;
	uint64_t r = 0;
	if (!c)
		r = 0;
	else if (kind == ENGINE_SGLANG)
		r = sglang_max(c, &k);
	else if (kind == ENGINE_VLLM)
		r = vllm_max(c, &k);
	else if (c->max_position_embeddings > 0) {
		/* llama.cpp: the GGUF's context_length (n_ctx_train) */
		r = (uint64_t)c->max_position_embeddings;
		k = kind == ENGINE_LLAMACPP ? "context_length" : "max_position_embeddings";
	}
	if (key)
		*key = k;
	return r;
}

/* ---- KV cache per token ---- */

void sc_engine_kv_shape(enum engine_kind kind, const struct hf_config *c, unsigned bits, struct kv_shape *ret)
{
	struct kv_shape k = { .bits = bits };
	*ret = k;
	if (!c || c->num_layers <= 0)
		return;
	uint64_t layers = (uint64_t)c->num_layers;
	if (c->kv_lora_rank > 0) {
		/* MLA keeps one latent (kv_lora_rank + qk_rope_head_dim) a layer,
		 * in both engines (vllm/v1/kv_cache_interface.py MLAAttentionSpec) */
		uint64_t rope = c->qk_rope_head_dim > 0 ? (uint64_t)c->qk_rope_head_dim : 0;
		k.per_token = sc_mul_sat(sc_mul_sat(layers, sc_add_sat((uint64_t)c->kv_lora_rank, rope)), bits) / 8;
		k.known = true;
		*ret = k;
		return;
	}
	if (c->num_kv_heads <= 0 || c->head_dim <= 0)
		return;
	uint64_t layer = sc_mul_sat(sc_mul_sat(sc_mul_sat(2, (uint64_t)c->num_kv_heads), (uint64_t)c->head_dim), bits) / 8;
	/* linear-attention layers (Qwen3-Next's Gated DeltaNet) keep a fixed
	 * state per request, no per-token KV */
	uint64_t linear = c->linear_layers >= 0 ? (uint64_t)c->linear_layers
			  : c->full_attention_interval > 0 ? layers - layers / (uint64_t)c->full_attention_interval : 0;
	if (linear > layers)
		linear = layers;
	uint64_t attn = layers - linear;
	/* windowed layers: the config's sliding layers; Gemma-2 has no
	 * layer_types, yet every other layer (the even ones) slides; Llama-4's
	 * chunked local attention is on every layer but each fourth */
	uint64_t window = 0, windowed = 0;
	if (c->attention_chunk_size > 0) {
		windowed = layers - layers / 4;
		window = (uint64_t)c->attention_chunk_size;
	} else if (c->sliding_window > 0) {
		window = (uint64_t)c->sliding_window;
		if (c->model_type && streq(c->model_type, "gemma2") && c->full_layers < 0)
			windowed = (layers + 1) / 2;
		else if (c->sliding_layers > 0)
			windowed = (uint64_t)c->sliding_layers;
	}
	if (windowed > attn)
		windowed = attn;
	k.known = true;
	if (kind == ENGINE_SGLANG) {
		if (windowed && in_list(c->architecture, sglang_hybrid_swa)) {
			/* its SWA pool holds 0.8 x the full pool's tokens */
			k.per_token = sc_add_sat(sc_mul_sat(attn - windowed, layer),
						 sc_mul_sat(sc_mul_sat(windowed, layer), SGLANG_SWA_FULL_TOKENS_RATIO_X10) / 10);
		} else
			k.per_token = sc_mul_sat(attn, layer);  /* every attention layer keeps every token */
	} else {
		/* vLLM (and llama.cpp): a sliding-window or chunked layer holds at
		 * most its window (vllm/v1/kv_cache_interface.py SlidingWindowSpec,
		 * ChunkedLocalAttentionSpec) */
		k.per_token = sc_mul_sat(attn - windowed, layer);
		k.per_token_window = sc_mul_sat(windowed, layer);
		k.window = windowed ? window : 0;
	}
	*ret = k;
}

/* ---- quantization the engine cannot load ---- */

/* vLLM's ModelOpt algorithms (vllm/model_executor/layers/quantization/
 * modelopt.py QUANT_ALGOS). */
static const char *const vllm_modelopt_algos[] = {
	"FP8", "FP8_PER_CHANNEL_PER_TOKEN", "FP8_PB_WO", "NVFP4", "W4A16_NVFP4", "MXFP8", "MIXED_PRECISION", NULL,
};

/* Whether engine kind loads a ModelOpt checkpoint of quant_algo algo; the
 * verdict in buf when not. SGLang knows MIXED_PRECISION and algorithms
 * naming FP4 or FP8 (model_config.py _parse_modelopt_quant_config); any
 * other, W4A8_AWQ among them, it reads as no quantization at all. */
static const char *modelopt_verdict(enum engine_kind kind, const char *engine, const char *algo, char *buf, size_t len)
{
	bool ok = true;
	if (!algo || !*algo)
		return NULL;
	if (kind == ENGINE_SGLANG)
		ok = streq(algo, "MIXED_PRECISION") || strstr(algo, "FP4") || strstr(algo, "FP8");
	else if (kind == ENGINE_VLLM)
		ok = in_list(algo, vllm_modelopt_algos);
	if (ok)
		return NULL;
	snprintf(buf, len, "%s cannot load ModelOpt %s", engine, algo);
	return buf;
}

/* ---- the plan ---- */

void sc_plan_done(struct sc_plan *p)
{
	if (!p)
		return;
	free(p->reason);
	free(p->path);
	sc_strv_free(p->flags, p->n_flags);
	sc_strv_free(p->notes, p->n_notes);
	*p = (struct sc_plan){ 0 };
}

/* The engine's spelling of each setting sparkctl passes. */
struct spelling {
	const char *context, *fraction, *kv, *quant;
};

static const struct spelling *spelling_of(enum engine_kind k)
{
	static const struct spelling sglang = { "--context-length", "--mem-fraction-static", "--kv-cache-dtype",
						"--quantization" };
	static const struct spelling vllm = { "--max-model-len", "--gpu-memory-utilization", "--kv-cache-dtype",
					      "--quantization" };
	static const struct spelling llamacpp = { "-c", NULL, NULL, NULL };
	return k == ENGINE_SGLANG ? &sglang : k == ENGINE_VLLM ? &vllm : k == ENGINE_LLAMACPP ? &llamacpp : NULL;
}

/* The value of option opt in the model's args ("--opt V" or "--opt=V"). */
static const char *arg_value(char **words, size_t n, const char *opt)
{
	size_t ol = opt ? strlen(opt) : 0;
	for (size_t i = 0; opt && i < n; i++) {
		if (streq(words[i], opt) && i + 1 < n)
			return words[i + 1];
		if (strncmp(words[i], opt, ol) == 0 && words[i][ol] == '=')
			return words[i] + ol + 1;
	}
	return NULL;
}

static unsigned kv_bits_named(const char *v)
{
	if (!v || streq(v, "auto"))
		return 0;
	if (startswith(v, "fp8") || startswith(v, "int8") || streq(v, "q8_0"))
		return 8;
	if (streq(v, "nvfp4") || streq(v, "fp4_e2m1") || streq(v, "q4_0"))
		return 4;
	return 16;
}

struct build {
	struct sc_plan p;
	int err;
};

static void note(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct build *b, const char *fmt, ...)
{
	va_list ap;
	char buf[512];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (sc_strv_appendf(&b->p.notes, &b->p.n_notes, "%s", buf) < 0)
		b->err = -ENOMEM;
}

static void flag(struct build *b, const char *opt, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void flag(struct build *b, const char *opt, const char *fmt, ...)
{
	va_list ap;
	char buf[64];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (sc_strv_appendf(&b->p.flags, &b->p.n_flags, "%s", opt) < 0 ||
	    sc_strv_appendf(&b->p.flags, &b->p.n_flags, "%s", buf) < 0)
		b->err = -ENOMEM;
}

/* The KV cache dtype that will run, and the flag it needs. The engines
 * detect only ModelOpt's FP8 KV cache (kv_cache_quant_algo of
 * hf_quant_config.json); a compressed-tensors kv_cache_scheme needs the
 * flag; an NVFP4 KV cache runs only with SGLang's --kv-cache-dtype nvfp4. */
static unsigned kv_plan(struct build *b, const struct sc_plan_in *in, const struct spelling *sp, const char *arg_kv)
{
	const struct sc_model *m = in->m;
	enum engine_kind kind = b->p.kind;
	bool gguf = m->format == FMT_GGUF;
	unsigned bits = sc_kv_bits(m->kv);
	const char *name = m->kv ? sc_kv_dtype_name(m->kv) : gguf ? "f16" : "bf16";
	if (arg_kv && sp && sp->kv) {
		unsigned ab = kv_bits_named(arg_kv);
		if (ab) {
			note(b, "args set %s %s: the estimate follows it", sp->kv, arg_kv);
			snprintf(b->p.kv_dtype, sizeof b->p.kv_dtype, "%s", arg_kv);
			return ab;
		}
	}
	if (m->kv == KV_NVFP4 && kind != ENGINE_SGLANG) {
		note(b, "the checkpoint declares an NVFP4 KV cache, which only SGLang runs: the estimate is for bf16");
		bits = 16;
		name = "bf16";
	} else if (m->kv && sp && sp->kv && !arg_kv) {
		bool inferred = m->quant_method == QM_MODELOPT && m->kv == KV_FP8;
		if (!inferred)
			flag(b, sp->kv, "%s", m->kv == KV_NVFP4 ? "nvfp4" : kind == ENGINE_SGLANG ? "fp8_e4m3" : "fp8");
	}
	snprintf(b->p.kv_dtype, sizeof b->p.kv_dtype, "%s", name);
	return bits;
}

/* --quantization only where the engine would not infer the scheme: both
 * read quantization_config of config.json and SGLang hf_quant_config.json
 * (model_config.py _parse_quant_hf_config), but neither reads a
 * quantize_config.json, so a GPTQ or AWQ declared only there loads as
 * unquantized weights and fails. */
static void quant_plan(struct build *b, const struct sc_plan_in *in, const struct spelling *sp, const char *arg_q)
{
	const struct sc_model *m = in->m;
	if (!sp || !sp->quant || arg_q || !m->decl.present || !streq(m->decl.source, "quantize_config.json"))
		return;
	if (m->quant_method == QM_GPTQ || m->quant_method == QM_AWQ) {
		flag(b, sp->quant, "%s", sc_quant_method_name(m->quant_method));
		note(b, "%s %s: declared only in quantize_config.json, which %s does not read",
		     sp->quant, sc_quant_method_name(m->quant_method), b->p.engine);
	}
}

/* The memory the engine will have. SGLang on an integrated GPU (GB10)
 * takes its fraction of MemAvailable at start (python/sglang/srt/utils/
 * common.py get_available_gpu_memory: props.is_integrated ->
 * psutil.virtual_memory().available); vLLM takes gpu_memory_utilization x
 * total and refuses to start when less than that is free
 * (vllm/v1/worker/gpu_worker.py, utils/mem_utils.py MemorySnapshot). */
static void budget_plan(struct build *b, const struct sc_plan_in *in)
{
	struct sc_plan *p = &b->p;
	const struct reg_model *en = in->entry;
	uint64_t total = en && en->memory ? en->memory : in->reg->memory ? in->reg->memory : in->mem_total;
	char t[32], a[32];
	sc_format_bytes(total, t, sizeof t);
	sc_format_bytes(in->mem_avail, a, sizeof a);
	bool capped = (en && en->memory) || in->reg->memory;
	if (p->kind == ENGINE_SGLANG && capped && total < in->mem_avail) {
		/* a memory in models.ini caps what SGLang may take */
		p->budget = (uint64_t)((double)total * p->fraction);
		snprintf(p->budget_basis, sizeof p->budget_basis, "%.2f x memory %s of models.ini (SGLang: of MemAvailable %s, at most that)",
			 p->fraction, t, a);
	} else if (p->kind == ENGINE_SGLANG) {
		p->budget = (uint64_t)((double)in->mem_avail * p->fraction);
		snprintf(p->budget_basis, sizeof p->budget_basis, "%.2f x MemAvailable %s (SGLang, at start)", p->fraction, a);
	} else if (p->kind == ENGINE_VLLM) {
		p->budget = (uint64_t)((double)total * p->fraction);
		p->start_free = p->budget;
		snprintf(p->budget_basis, sizeof p->budget_basis, "%.2f x total %s (vLLM; it starts only with that much free)",
			 p->fraction, t);
	} else {
		p->budget = (uint64_t)((double)total * p->fraction);
		snprintf(p->budget_basis, sizeof p->budget_basis, "%.2f x total %s", p->fraction, t);
	}
}

int sc_plan_make(const struct sc_plan_in *in, struct sc_plan *ret, sc_err *e)
{
	*ret = (struct sc_plan){ 0 };
	struct build b = { .p = { .engine = in->en->name, .kind = sc_engine_kind_of(in->en) } };
	struct sc_plan *p = &b.p;
	const struct reg_model *entry = in->entry;
	char why[256], **args = NULL;
	size_t na = 0;
	sc_err we;
	if (sc_engine_reason(in->en, in->m, why, sizeof why) ||
	    (in->m->quant_method == QM_MODELOPT &&
	     modelopt_verdict(p->kind, p->engine, in->m->decl.algo, why, sizeof why))) {
		if (!(p->reason = strdup(why)))
			return sc_error(e, -ENOMEM, "out of memory");
		*ret = b.p;
		return 0;
	}
	/* SGLang, vLLM and llama-server take a GGUF model as its file (the
	 * first part of a split); llama-server fails on a folder ("failed to
	 * read magic") */
	const struct sc_model *m = in->m;
	if (m->format == FMT_GGUF && (m->single_file || m->n_weights)) {
		if (m->single_file ? !(p->path = strdup(m->single_file)) : !(p->path = sc_path_join(m->dir, m->weights[0].rel)))
			return sc_error(e, -ENOMEM, "out of memory");
	}
	if (entry && entry->args && sc_split_words(entry->args, &args, &na, &we) < 0)
		args = NULL, na = 0;  /* launch reports a bad args line */
	const struct spelling *sp = spelling_of(p->kind);
	const char *arg_ctx = sp ? arg_value(args, na, sp->context) : NULL;
	if (!arg_ctx && p->kind == ENGINE_LLAMACPP)
		arg_ctx = arg_value(args, na, "--ctx-size");
	const char *arg_frac = sp ? arg_value(args, na, sp->fraction) : NULL;
	p->context_in_template = in->en->command && strstr(in->en->command, "{context}");

	/* the fraction: args, else models.ini */
	p->fraction = entry && entry->mem_fraction > 0 ? entry->mem_fraction : in->reg->mem_fraction;
	if (arg_frac) {
		char *end;
		double f = strtod(arg_frac, &end);
		if (*end == '\0' && f > 0 && f <= 1) {
			p->fraction = f;
			note(&b, "args set %s %s: the estimate follows it", sp->fraction, arg_frac);
		}
	} else if (sp && sp->fraction)
		flag(&b, sp->fraction, "%.2f", p->fraction);

	unsigned bits = kv_plan(&b, in, sp, sp && sp->kv ? arg_value(args, na, sp->kv) : NULL);
	quant_plan(&b, in, sp, sp && sp->quant ? arg_value(args, na, sp->quant) : NULL);
	budget_plan(&b, in);
	p->overhead = entry && entry->overhead ? entry->overhead : in->reg->overhead ? in->reg->overhead : SC_DEFAULT_OVERHEAD;
	p->weights = in->m->stats ? in->m->stats->bytes : 0;
	sc_engine_kv_shape(p->kind, in->c, bits, &p->kv);
	p->engine_max = sc_engine_max_context(p->kind, in->c, &p->engine_max_key);
	uint64_t fixed = sc_add_sat(p->weights, p->overhead);
	p->max_context_fit = p->kv.known ? sc_max_context(&p->kv, fixed, p->budget, p->engine_max) : 0;

	/* the context: --context, else args, else models.ini, else the
	 * engine's own maximum as far as it fits */
	uint64_t asked = in->context;
	const char *from = "--context";
	if (!asked && arg_ctx) {
		char *end;
		unsigned long long v = strtoull(arg_ctx, &end, 10);
		if (*end == '\0' && v > 0) {
			asked = v;
			from = "args";
			note(&b, "args set %s %s: the estimate follows it", sp->context, arg_ctx);
		}
	}
	if (!asked && entry && entry->context > 0) {
		asked = (uint64_t)entry->context;
		from = "context in models.ini";
	}
	bool give_flag = asked && !streq(from, "args");
	if (asked && p->engine_max && asked > p->engine_max) {
		if (streq(from, "args"))
			note(&b, "%s will refuse to start: args ask for %llu tokens, it accepts at most %llu (%s)", p->engine,
			     (unsigned long long)asked, (unsigned long long)p->engine_max, p->engine_max_key);
		else {
			note(&b, "%s %llu is more than %s accepts, %llu (%s): capped", from, (unsigned long long)asked,
			     p->engine, (unsigned long long)p->engine_max, p->engine_max_key);
			asked = p->engine_max;
		}
	}
	if (asked)
		p->context = asked;
	else if (p->kv.known && p->engine_max && p->max_context_fit && p->max_context_fit < p->engine_max) {
		p->context = p->max_context_fit;
		give_flag = true;
		note(&b, "the budget caps the context at %llu tokens (the model allows %llu)", (unsigned long long)p->context,
		     (unsigned long long)p->engine_max);
	} else
		p->context = p->engine_max;  /* the engine's default; when nothing fits, what it would try */
	if (give_flag && sp && sp->context && !p->context_in_template)
		flag(&b, sp->context, "%llu", (unsigned long long)p->context);

	p->kv_bytes = p->kv.known && p->context ? sc_kv_bytes_at(&p->kv, p->context) : 0;
	p->need = sc_add_sat(fixed, p->kv_bytes);
	p->fits = p->need <= p->budget && (!p->start_free || p->start_free <= in->mem_avail);
	if (p->start_free && p->start_free > in->mem_avail) {
		char s[32], a[32];
		sc_format_bytes(p->start_free, s, sizeof s);
		sc_format_bytes(in->mem_avail, a, sizeof a);
		note(&b, "vLLM will refuse to start: it wants %s free and %s is (MemAvailable)", s, a);
	}
	sc_strv_free(args, na);
	if (b.err < 0) {
		sc_plan_done(p);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	*ret = b.p;
	return 0;
}
