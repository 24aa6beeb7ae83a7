#include "estimate.h"

/* Sizes saturate instead of wrapping: a hostile config.json or a huge
 * --context must read as "does not fit", never as 0 bytes. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t sc_add_sat(uint64_t a, uint64_t b)
{
	return add_sat(a, b);
}

uint64_t sc_mul_sat(uint64_t a, uint64_t b)
{
	return mul_sat(a, b);
}

unsigned sc_kv_bits(enum sc_kv_dtype kv)
{
	switch (kv) {
	case KV_FP8:
	case KV_INT8:
		return 8;
	case KV_NVFP4:
		return 4;
	default:
		return 16;
	}
}

void sc_kv_shape_of(const struct hf_config *c, unsigned bits, struct kv_shape *ret)
{
	struct kv_shape k = { .bits = bits };
	if (c->num_layers > 0 && c->kv_lora_rank > 0) {
		uint64_t rope = c->qk_rope_head_dim > 0 ? (uint64_t)c->qk_rope_head_dim : 0;
		k.per_token = mul_sat(mul_sat((uint64_t)c->num_layers, add_sat((uint64_t)c->kv_lora_rank, rope)), bits) / 8;
		k.known = true;
	} else if (c->num_layers > 0 && c->num_kv_heads > 0 && c->head_dim > 0) {
		uint64_t layer = mul_sat(mul_sat(mul_sat(2, (uint64_t)c->num_kv_heads), (uint64_t)c->head_dim), bits) / 8;
		uint64_t sliding = c->sliding_layers > 0 && c->sliding_window > 0 ? (uint64_t)c->sliding_layers : 0;
		if (sliding > (uint64_t)c->num_layers)
			sliding = (uint64_t)c->num_layers;
		k.per_token = mul_sat((uint64_t)c->num_layers - sliding, layer);
		k.per_token_window = mul_sat(sliding, layer);
		k.window = sliding ? (uint64_t)c->sliding_window : 0;
		k.known = true;
	}
	*ret = k;
}

uint64_t sc_kv_bytes_at(const struct kv_shape *k, uint64_t context)
{
	uint64_t w = context < k->window ? context : k->window;
	return add_sat(mul_sat(k->per_token, context), mul_sat(k->per_token_window, w));
}

uint64_t sc_kv_fixed_bytes(const struct kv_shape *k)
{
	return mul_sat(k->per_token_window, k->window);
}

uint64_t sc_max_context(const struct kv_shape *k, uint64_t weights, uint64_t budget, uint64_t limit)
{
	if (budget <= weights)
		return 0;
	uint64_t room = budget - weights, c;
	uint64_t both = add_sat(k->per_token, k->per_token_window);
	if (!both)
		c = limit ? limit : UINT64_MAX;
	else if (room / both <= k->window)
		c = room / both;  /* the window is not full yet */
	else if (!k->per_token)
		c = limit ? limit : UINT64_MAX;  /* only sliding layers: any length */
	else
		c = room > sc_kv_fixed_bytes(k) ? (room - sc_kv_fixed_bytes(k)) / k->per_token : 0;
	return limit && c > limit ? limit : c;
}
