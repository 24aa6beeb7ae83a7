#include "hfconfig.h"
#include "gguf.h"
#include "../base/util.h"

static int64_t get_int(json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			return json_integer_value(v);
	}
	return -1;
}

static char *get_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* What both sources leave implicit: KV heads default to the attention
 * heads (no grouped-query attention), head_dim to hidden / heads. */
static void derive(struct hf_config *c)
{
	if (c->num_kv_heads < 0)
		c->num_kv_heads = c->num_attention_heads;
	if (c->head_dim < 0 && c->hidden_size > 0 && c->num_attention_heads > 0)
		c->head_dim = c->hidden_size / c->num_attention_heads;
}

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

const char *sc_hf_len_key_name(enum hf_len_key k)
{
	static const char *const names[HF_LEN_KEYS] = {
		"max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "model_max_length",
		"max_target_positions", "max_sequence_length", "max_seq_length", "seq_len",
	};
	return (unsigned)k < HF_LEN_KEYS ? names[k] : "?";
}

/* layer_types by kind: full_attention, *sliding*, linear_attention */
static void count_layer_types(json_t *o, struct hf_config *c)
{
	json_t *lt = json_object_get(o, "layer_types");
	c->full_layers = c->linear_layers = -1;
	if (!json_is_array(lt))
		return;
	size_t i;
	json_t *v;
	c->full_layers = c->linear_layers = 0;
	json_array_foreach(lt, i, v) {
		const char *t = json_string_value(v);
		if (!t)
			continue;
		if (strstr(t, "linear") || strstr(t, "mamba"))
			c->linear_layers++;
		else if (!strstr(t, "sliding") && !strstr(t, "chunked"))
			c->full_layers++;
	}
}

static void rope_facts(json_t *rope, struct hf_config *c)
{
	c->rope_original_max = -1;
	if (!json_is_object(rope))
		return;
	json_t *f = json_object_get(rope, "factor");
	if (json_is_number(f) && json_number_value(f) > 0)
		c->rope_factor = json_number_value(f);
	json_t *t = json_object_get(rope, "rope_type");
	if (!json_is_string(t))
		t = json_object_get(rope, "type");
	if (json_is_string(t))
		snprintf(c->rope_type, sizeof c->rope_type, "%s", json_string_value(t));
	json_t *om = json_object_get(rope, "original_max_position_embeddings");
	if (json_is_integer(om) && json_integer_value(om) > 0)
		c->rope_original_max = json_integer_value(om);
}


/* Layers that use a sliding window: from layer_types, else from a
 * sliding_window_pattern (every Nth layer is full attention). */
static int64_t count_sliding(json_t *o, int64_t layers, int64_t window)
{
	json_t *lt = json_object_get(o, "layer_types");
	if (json_is_array(lt)) {
		size_t i;
		json_t *v;
		int64_t n = 0;
		json_array_foreach(lt, i, v)
			if (json_is_string(v) && strstr(json_string_value(v), "sliding"))
				n++;
		return n;
	}
	if (window <= 0 || layers < 0)
		return window <= 0 ? 0 : -1;
	json_t *use = json_object_get(o, "use_sliding_window");
	if (json_is_false(use))
		return 0;
	int64_t pattern = get_int(o, KEYS("sliding_window_pattern"));
	if (pattern > 0)
		return layers - layers / pattern;
	return layers;
}

int sc_hf_config_from_json(json_t *root, struct hf_config *ret, sc_err *e)
{
	*ret = (struct hf_config){ 0 };
	if (!json_is_object(root))
		return sc_error(e, SC_ENOTOBJ, "config.json is not an object");
	struct hf_config c = { .tie_word_embeddings = -1 };
	json_t *arch = json_object_get(root, "architectures");
	if (json_is_array(arch) && json_is_string(json_array_get(arch, 0)))
		c.architecture = strdup(json_string_value(json_array_get(arch, 0)));
	c.model_type = get_str(root, "model_type");
	json_t *t = json_object_get(root, "text_config");
	json_t *o = json_is_object(t) ? t : root;
	c.multimodal = o != root;
	c.torch_dtype = get_str(o, "torch_dtype");
	if (!c.torch_dtype)
		c.torch_dtype = get_str(o, "dtype");
	if (!c.torch_dtype && o != root)
		c.torch_dtype = get_str(root, "torch_dtype");
	c.num_layers = get_int(o, KEYS("num_hidden_layers", "n_layer", "num_layers"));
	c.hidden_size = get_int(o, KEYS("hidden_size", "n_embd", "d_model"));
	c.intermediate_size = get_int(o, KEYS("intermediate_size"));
	c.num_attention_heads = get_int(o, KEYS("num_attention_heads", "n_head"));
	c.num_kv_heads = get_int(o, KEYS("num_key_value_heads", "num_kv_heads"));
	c.head_dim = get_int(o, KEYS("head_dim"));
	derive(&c);
	c.vocab_size = get_int(o, KEYS("vocab_size"));
	c.max_position_embeddings = get_int(o, KEYS("max_position_embeddings", "n_positions", "max_sequence_length"));
	c.sliding_window = get_int(o, KEYS("sliding_window"));
	c.num_experts = get_int(o, KEYS("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"));
	c.experts_per_token = get_int(o, KEYS("num_experts_per_tok", "num_experts_per_token", "experts_per_token", "moe_topk"));
	c.kv_lora_rank = get_int(o, KEYS("kv_lora_rank"));
	c.qk_rope_head_dim = get_int(o, KEYS("qk_rope_head_dim"));
	c.sliding_layers = count_sliding(o, c.num_layers, c.sliding_window);
	json_t *tie = json_object_get(o, "tie_word_embeddings");
	if (!json_is_boolean(tie))
		tie = json_object_get(root, "tie_word_embeddings");
	if (json_is_boolean(tie))
		c.tie_word_embeddings = json_is_true(tie);
	json_t *rope = json_object_get(o, "rope_scaling");
	if (json_is_object(rope))
		c.rope_scaling = json_dumps(rope, JSON_COMPACT | JSON_SORT_KEYS);
	rope_facts(rope, &c);
	for (int k = 0; k < HF_LEN_KEYS; k++)
		c.len_keys[k] = get_int(o, (const char *const[]){ sc_hf_len_key_name((enum hf_len_key)k), NULL });
	count_layer_types(o, &c);
	c.full_attention_interval = get_int(o, KEYS("full_attention_interval"));
	c.attention_chunk_size = get_int(o, KEYS("attention_chunk_size"));
	*ret = c;
	return 0;
}

void sc_hf_config_done(struct hf_config *c)
{
	if (!c)
		return;
	free(c->architecture);
	free(c->model_type);
	free(c->torch_dtype);
	free(c->rope_scaling);
	memset(c, 0, sizeof *c);
}

static int64_t gguf_int(const struct gguf_file *g, const char *arch, const char *key)
{
	char k[256];
	uint64_t v;
	snprintf(k, sizeof k, "%s.%s", arch, key);
	return sc_gguf_get_uint(g, k, &v) && v <= INT64_MAX ? (int64_t)v : -1;
}

int sc_hf_config_from_gguf(const struct gguf_file *g, struct hf_config *ret)
{
	*ret = (struct hf_config){ 0 };
	struct hf_config c = { .tie_word_embeddings = -1, .kv_lora_rank = -1, .qk_rope_head_dim = -1,
			       .intermediate_size = -1, .sliding_layers = 0, .rope_original_max = -1, .full_layers = -1,
			       .linear_layers = -1, .full_attention_interval = -1, .attention_chunk_size = -1 };
	for (int k = 0; k < HF_LEN_KEYS; k++)
		c.len_keys[k] = -1;
	const char *arch = sc_gguf_get_str(g, "general.architecture");
	if (!arch)
		arch = "llama";
	if (!(c.architecture = strdup(arch)) || !(c.model_type = strdup(arch)))
		goto oom;
	c.num_layers = gguf_int(g, arch, "block_count");
	c.hidden_size = gguf_int(g, arch, "embedding_length");
	c.intermediate_size = gguf_int(g, arch, "feed_forward_length");
	c.num_attention_heads = gguf_int(g, arch, "attention.head_count");
	c.num_kv_heads = gguf_int(g, arch, "attention.head_count_kv");
	c.head_dim = gguf_int(g, arch, "attention.key_length");
	derive(&c);
	c.max_position_embeddings = gguf_int(g, arch, "context_length");
	c.len_keys[HF_MAX_POSITION_EMBEDDINGS] = c.max_position_embeddings;
	c.num_experts = gguf_int(g, arch, "expert_count");
	c.experts_per_token = gguf_int(g, arch, "expert_used_count");
	c.sliding_window = gguf_int(g, arch, "attention.sliding_window");
	c.kv_lora_rank = gguf_int(g, arch, "attention.kv_lora_rank");
	c.qk_rope_head_dim = gguf_int(g, arch, "rope.dimension_count");
	if (c.kv_lora_rank < 0)
		c.qk_rope_head_dim = -1;
	const struct gguf_kv *tok = sc_gguf_find(g, "tokenizer.ggml.tokens");
	c.vocab_size = tok && tok->type == GGUF_ARRAY ? (int64_t)tok->count : gguf_int(g, arch, "vocab_size");
	if (c.sliding_window > 0 && c.num_layers > 0)
		c.sliding_layers = -1;  /* the pattern is not in the metadata */
	*ret = c;
	return 0;
oom:
	sc_hf_config_done(&c);
	return -ENOMEM;
}
