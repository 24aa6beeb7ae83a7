/* The facts of a Hugging Face config.json that sparkctl uses. For
 * multimodal configs the language model's numbers under text_config win. */
#ifndef SC_HFCONFIG_H
#define SC_HFCONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/err.h"

/* The keys engines read a maximum context from (their own lists differ:
 * lib/engine/plan.c). -1 where absent. */
enum hf_len_key {
	HF_MAX_POSITION_EMBEDDINGS, HF_N_POSITIONS, HF_MAX_SEQ_LEN, HF_SEQ_LENGTH, HF_MODEL_MAX_LENGTH,
	HF_MAX_TARGET_POSITIONS, HF_MAX_SEQUENCE_LENGTH, HF_MAX_SEQ_LENGTH, HF_SEQ_LEN, HF_LEN_KEYS,
};
const char *sc_hf_len_key_name(enum hf_len_key k);

struct hf_config {
	char *architecture;  /* architectures[0] */
	char *model_type;
	char *torch_dtype;   /* torch_dtype, or dtype in newer files */
	char *rope_scaling;  /* compact JSON of rope_scaling, or NULL */
	/* -1 where the config has no such number */
	int64_t num_layers, hidden_size, intermediate_size, num_attention_heads;
	int64_t num_kv_heads, head_dim, vocab_size, max_position_embeddings;
	int64_t sliding_window, num_experts, experts_per_token;
	int64_t kv_lora_rank, qk_rope_head_dim;
	int64_t sliding_layers;  /* how many layers use the window, -1 unknown */
	int tie_word_embeddings;  /* -1 unknown */
	bool multimodal;          /* numbers came from text_config */
	int64_t len_keys[HF_LEN_KEYS];
	/* rope_scaling: factor (0 without one), rope_type (or type), and
	 * original_max_position_embeddings (-1 absent) */
	double rope_factor;
	char rope_type[24];
	int64_t rope_original_max;
	/* layer_types: how many layers of each kind, -1 without the list */
	int64_t full_layers, linear_layers;
	int64_t full_attention_interval;  /* hybrid linear attention (Qwen3-Next) */
	int64_t attention_chunk_size;     /* chunked local attention (Llama-4) */
};

struct gguf_file;

/* The same facts from GGUF metadata: <arch>.block_count, .embedding_length,
 * .attention.head_count(_kv), .attention.key_length, .context_length,
 * .expert_count, .expert_used_count, .attention.sliding_window. */
int sc_hf_config_from_gguf(const struct gguf_file *g, struct hf_config *ret);

/* Fill ret from a parsed config.json document. */
int sc_hf_config_from_json(json_t *root, struct hf_config *ret, sc_err *e);
void sc_hf_config_done(struct hf_config *c);

#endif
