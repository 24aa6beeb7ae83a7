/* Memory estimates: KV cache per token for standard attention, MLA and
 * sliding windows, with the values the issue names; the fit and the
 * longest context; /proc/meminfo. The engines' own rules: test-plan.c. */
#include "unit.h"
#include "../../lib/format/estimate.h"
#include "../../lib/engine/sysmem.h"

static struct hf_config cfg(int64_t layers, int64_t kv_heads, int64_t head_dim)
{
	struct hf_config c = { .num_layers = layers, .num_kv_heads = kv_heads, .head_dim = head_dim,
			       .kv_lora_rank = -1, .qk_rope_head_dim = -1, .sliding_window = -1 };
	return c;
}

static void standard_attention_known_values(void **state)
{
	struct kv_shape k;
	struct hf_config llama = cfg(32, 8, 128);
	sc_kv_shape_of(&llama, 16, &k);
	assert_int_equal(k.per_token, 131072);  /* Llama-3.1-8B, bf16 */
	assert_int_equal(sc_kv_bytes_at(&k, 1000), 131072000);
	struct hf_config qwen = cfg(64, 8, 128);
	sc_kv_shape_of(&qwen, 16, &k);
	assert_int_equal(k.per_token, 262144);  /* Qwen3-32B */
	sc_kv_shape_of(&qwen, 8, &k);
	assert_int_equal(k.per_token, 131072);  /* with an FP8 KV cache */
	assert_int_equal(sc_kv_bits(KV_FP8), 8);
	assert_int_equal(sc_kv_bits(KV_NONE), 16);
}

/* A context or a config.json value whose KV bytes pass 2^64 reads as
 * "does not fit", never as a wrapped small number. */
static void sizes_saturate_instead_of_wrapping(void **state)
{
	struct kv_shape k;
	struct hf_config qwen = cfg(64, 8, 128);
	sc_kv_shape_of(&qwen, 16, &k);
	assert_int_equal(sc_kv_bytes_at(&k, 70368744177664ULL), UINT64_MAX);
	struct hf_config absurd = cfg(INT64_MAX / 2, INT64_MAX / 2, 128);
	sc_kv_shape_of(&absurd, 16, &k);
	assert_true(k.per_token == UINT64_MAX);
	assert_int_equal(sc_kv_bytes_at(&k, 2), UINT64_MAX);
	assert_int_equal(sc_add_sat(UINT64_MAX - 1, 5), UINT64_MAX);
	assert_int_equal(sc_max_context(&k, 1000, 2000, 0), 0);
}

static void mla_known_value(void **state)
{
	struct hf_config ds = cfg(61, 128, 128);
	ds.kv_lora_rank = 512;
	ds.qk_rope_head_dim = 64;
	struct kv_shape k;
	sc_kv_shape_of(&ds, 16, &k);
	assert_int_equal(k.per_token, 70272);  /* DeepSeek-V3 */
}

static void sliding_windows_add_a_fixed_amount(void **state)
{
	/* gpt-oss: 24 layers, half of them with 128-token windows */
	struct hf_config oss = cfg(24, 8, 64);
	oss.sliding_window = 128;
	oss.sliding_layers = 12;
	struct kv_shape k;
	sc_kv_shape_of(&oss, 16, &k);
	assert_int_equal(k.per_token, 12 * 2 * 8 * 64 * 2);
	assert_int_equal(sc_kv_fixed_bytes(&k), 12ULL * 2 * 8 * 64 * 2 * 128);
	/* below the window both kinds grow; above it only the full layers */
	assert_int_equal(sc_kv_bytes_at(&k, 100), 100ULL * 24 * 2048);
	assert_int_equal(sc_kv_bytes_at(&k, 10000), 10000ULL * 12 * 2048 + 128ULL * 12 * 2048);
}

static void unknown_shapes_are_not_guessed(void **state)
{
	struct hf_config none = cfg(-1, -1, -1);
	struct kv_shape k;
	sc_kv_shape_of(&none, 16, &k);
	assert_false(k.known);
}

static void longest_context_that_fits(void **state)
{
	struct hf_config llama = cfg(32, 8, 128);
	struct kv_shape k;
	sc_kv_shape_of(&llama, 16, &k);
	uint64_t weights = 16ULL << 30, budget = 17ULL << 30;
	uint64_t c = sc_max_context(&k, weights, budget, 0);
	assert_int_equal(c, (1ULL << 30) / 131072);
	assert_true(weights + sc_kv_bytes_at(&k, c) <= budget);
	assert_true(weights + sc_kv_bytes_at(&k, c + 1) > budget);
	assert_int_equal(sc_max_context(&k, weights, budget, 4096), 4096);  /* the model's limit */
	assert_int_equal(sc_max_context(&k, weights, weights, 0), 0);       /* weights alone fill it */
	struct hf_config oss = cfg(24, 8, 64);
	oss.sliding_window = 128;
	oss.sliding_layers = 12;
	sc_kv_shape_of(&oss, 16, &k);
	c = sc_max_context(&k, 0, 1ULL << 30, 0);
	assert_true(sc_kv_bytes_at(&k, c) <= 1ULL << 30);
	assert_true(sc_kv_bytes_at(&k, c + 1) > 1ULL << 30);
	c = sc_max_context(&k, 0, 100 * 24 * 2048, 0);  /* inside the window */
	assert_int_equal(c, 100);
}

static void meminfo(void **state)
{
	uint64_t t, a;
	assert_int_equal(sc_meminfo_parse("MemTotal:       131072000 kB\nMemFree: 1 kB\nMemAvailable:   100000000 kB\n", &t, &a), 0);
	assert_int_equal(t, 131072000ULL * 1024);
	assert_int_equal(a, 100000000ULL * 1024);
	assert_true(sc_meminfo_parse("nothing\n", &t, &a) < 0);
	sc_err e;
	assert_int_equal(sc_meminfo(&t, &a, &e), 0);
	assert_true(t > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(standard_attention_known_values),
		cmocka_unit_test(sizes_saturate_instead_of_wrapping),
		cmocka_unit_test(mla_known_value),
		cmocka_unit_test(sliding_windows_add_a_fixed_amount),
		cmocka_unit_test(unknown_shapes_are_not_guessed),
		cmocka_unit_test(longest_context_that_fits),
		cmocka_unit_test(meminfo),
	};
	return RUN(tests);
}
