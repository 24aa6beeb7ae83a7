/* What a model needs in memory: weights plus KV cache at a context length,
 * against a budget; and the longest context that fits.
 *
 * KV cache per token (b = bytes per element of the KV dtype):
 *   standard attention  2 x layers x kv_heads x head_dim x b
 *   MLA (kv_lora_rank)  layers x (kv_lora_rank + qk_rope_head_dim) x b
 * A sliding-window layer holds at most `window` tokens: it adds a fixed
 * amount, not a per-token one. */
#ifndef SC_ESTIMATE_H
#define SC_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

#include "hfconfig.h"
#include "vocab.h"

struct kv_shape {
	uint64_t per_token;          /* bytes per token of the full-attention layers */
	uint64_t per_token_window;   /* bytes per token of the sliding layers, up to window */
	uint64_t window;
	unsigned bits;               /* KV element bits */
	bool known;
};

/* KV element bits of a cache dtype (KV_NONE: 16, bf16). */
unsigned sc_kv_bits(enum sc_kv_dtype kv);

void sc_kv_shape_of(const struct hf_config *c, unsigned bits, struct kv_shape *ret);

/* a + b and a x b, or UINT64_MAX when they would wrap */
uint64_t sc_add_sat(uint64_t a, uint64_t b);
uint64_t sc_mul_sat(uint64_t a, uint64_t b);

/* KV bytes at a context length. */

uint64_t sc_kv_bytes_at(const struct kv_shape *k, uint64_t context);

/* What the sliding-window layers hold whatever the context (at least a
 * window's worth of tokens). */
uint64_t sc_kv_fixed_bytes(const struct kv_shape *k);

/* The longest context with weights + kv <= budget; 0 when even the weights
 * do not fit. limit caps it (the model's max position), 0: no cap. */
uint64_t sc_max_context(const struct kv_shape *k, uint64_t weights, uint64_t budget, uint64_t limit);

#endif
