/* The GGUF reader: every value type, nested arrays, alignment, tensor sizes
 * from the ggml block table, the real sample, and hostile files. */
#include "unit.h"
#include "../../lib/format/dtype.h"
#include "../../lib/format/gguf.h"

/* header + kvs built by the test; tensors appended by add_tensor */
struct gg {
	struct bytes b;
	uint64_t n_kv, n_t;
	struct bytes kv, ti;
};

static void kv_u32(struct gg *g, const char *k, uint32_t v) { b_str(&g->kv, k); b_u32(&g->kv, 4); b_u32(&g->kv, v); g->n_kv++; }
static void kv_s(struct gg *g, const char *k, const char *v) { b_str(&g->kv, k); b_u32(&g->kv, 8); b_str(&g->kv, v); g->n_kv++; }

static void add_tensor(struct gg *g, const char *name, uint32_t type, uint64_t d0, uint64_t d1, uint64_t off)
{
	b_str(&g->ti, name);
	b_u32(&g->ti, 2);
	b_u64(&g->ti, d0);
	b_u64(&g->ti, d1);
	b_u32(&g->ti, type);
	b_u64(&g->ti, off);
	g->n_t++;
}

/* assemble; pad the data section to data bytes */
static struct bytes finish(struct gg *g, uint32_t version, uint64_t data, uint32_t align)
{
	struct bytes b = { 0 };
	b_put(&b, "GGUF", 4);
	b_u32(&b, version);
	b_u64(&b, g->n_t);
	b_u64(&b, g->n_kv);
	b_put(&b, g->kv.p, g->kv.n);
	b_put(&b, g->ti.p, g->ti.n);
	while (b.n % align)
		b_put(&b, "", 1);
	for (uint64_t i = 0; i < data; i++)
		b_put(&b, "", 1);
	free(g->kv.p);
	free(g->ti.p);
	return b;
}

static void all_value_types_and_nested_arrays(void **state)
{
	struct gg g = { 0 };
	struct bytes *k = &g.kv;
	uint8_t u8 = 7;
	uint16_t u16 = 300;
	float f = 1.5f;
	double d = 2.5;
	b_str(k, "u8"); b_u32(k, GGUF_U8); b_put(k, &u8, 1);
	b_str(k, "i8"); b_u32(k, GGUF_I8); b_put(k, "\xff", 1);
	b_str(k, "u16"); b_u32(k, GGUF_U16); b_put(k, &u16, 2);
	b_str(k, "i16"); b_u32(k, GGUF_I16); b_put(k, "\xfe\xff", 2);
	b_str(k, "u32"); b_u32(k, GGUF_U32); b_u32(k, 70000);
	b_str(k, "i32"); b_u32(k, GGUF_I32); b_u32(k, (uint32_t)-5);
	b_str(k, "f32"); b_u32(k, GGUF_F32); b_put(k, &f, 4);
	b_str(k, "bool"); b_u32(k, GGUF_BOOL); b_put(k, "\1", 1);
	b_str(k, "str"); b_u32(k, GGUF_STRING); b_str(k, "hello");
	b_str(k, "u64"); b_u32(k, GGUF_U64); b_u64(k, 1ULL << 40);
	b_str(k, "i64"); b_u32(k, GGUF_I64); b_u64(k, (uint64_t)-9);
	b_str(k, "f64"); b_u32(k, GGUF_F64); b_put(k, &d, 8);
	b_str(k, "tokens"); b_u32(k, GGUF_ARRAY); b_u32(k, GGUF_STRING); b_u64(k, 3);
	b_str(k, "a"); b_str(k, "bb"); b_str(k, "");
	/* an array of two arrays of u32 */
	b_str(k, "nested"); b_u32(k, GGUF_ARRAY); b_u32(k, GGUF_ARRAY); b_u64(k, 2);
	b_u32(k, GGUF_U32); b_u64(k, 2); b_u32(k, 1); b_u32(k, 2);
	b_u32(k, GGUF_U32); b_u64(k, 1); b_u32(k, 3);
	g.n_kv = 14;
	struct bytes b = finish(&g, 3, 0, 32);
	struct gguf_file f1;
	sc_err e;
	assert_int_equal(sc_gguf_parse(b.p, b.n, b.n, &f1, &e), 0);
	uint64_t v;
	assert_true(sc_gguf_get_uint(&f1, "u8", &v) && v == 7);
	assert_true(sc_gguf_get_uint(&f1, "u16", &v) && v == 300);
	assert_true(sc_gguf_get_uint(&f1, "u32", &v) && v == 70000);
	assert_true(sc_gguf_get_uint(&f1, "u64", &v) && v == 1ULL << 40);
	assert_false(sc_gguf_get_uint(&f1, "i32", &v));  /* negative */
	assert_int_equal(sc_gguf_find(&f1, "i64")->v.i, -9);
	assert_int_equal(sc_gguf_find(&f1, "i8")->v.i, -1);
	assert_int_equal(sc_gguf_find(&f1, "i16")->v.i, -2);
	assert_true(sc_gguf_find(&f1, "f32")->v.f == 1.5);
	assert_true(sc_gguf_find(&f1, "f64")->v.f == 2.5);
	assert_true(sc_gguf_get_uint(&f1, "bool", &v) && v == 1);
	assert_string_equal(sc_gguf_get_str(&f1, "str"), "hello");
	assert_int_equal(sc_gguf_find(&f1, "tokens")->count, 3);
	assert_int_equal(sc_gguf_find(&f1, "nested")->count, 2);
	assert_int_equal(sc_gguf_find(&f1, "nested")->arr_type, GGUF_ARRAY);
	sc_gguf_file_done(&f1);
	free(b.p);
}

static void tensor_sizes_alignment_and_data_end(void **state)
{
	struct gg g = { 0 };
	kv_s(&g, "general.architecture", "llama");
	kv_u32(&g, "general.alignment", 64);
	kv_u32(&g, "general.file_type", 15);
	/* Q4_K: 256 values in 144 bytes: [512, 2] -> 2 * 2 * 144 = 576 */
	add_tensor(&g, "blk.0.ffn_up.weight", 12, 512, 2, 0);
	/* F32 [64, 1] = 256 bytes at 576 rounded up to 640 */
	add_tensor(&g, "blk.0.attn_norm.weight", 0, 64, 1, 640);
	struct bytes b = finish(&g, 3, 896, 64);
	struct gguf_file f;
	sc_err e;
	assert_int_equal(sc_gguf_parse(b.p, b.n, b.n, &f, &e), 0);
	assert_int_equal(f.alignment, 64);
	assert_int_equal(f.data_start % 64, 0);
	assert_int_equal(f.tensors[0].bytes, 576);
	assert_int_equal(f.tensors[1].bytes, 256);
	assert_int_equal(f.data_end, f.data_start + 896);
	assert_int_equal(f.data_end, b.n);
	assert_string_equal(sc_gguf_file_type_name(15), "Q4_K_M");
	sc_gguf_file_done(&f);
	free(b.p);
}

static void version_2_reads_like_3(void **state)
{
	struct gg g = { 0 };
	kv_s(&g, "general.architecture", "llama");
	struct bytes b = finish(&g, 2, 0, 32);
	struct gguf_file f;
	sc_err e;
	assert_int_equal(sc_gguf_parse(b.p, b.n, b.n, &f, &e), 0);
	assert_int_equal(f.version, 2);
	sc_gguf_file_done(&f);
	free(b.p);
}

static void expect(struct bytes b, uint64_t file_size, int code)
{
	struct gguf_file f;
	sc_err e = { "" };
	int r = sc_gguf_parse(b.p, b.n, file_size, &f, &e);
	if (r != code)
		print_error("expected %s, got %d (%s): %s\n", sc_strerror(code), r, sc_strerror(r), e.msg);
	assert_int_equal(r, code);
	assert_true(e.msg[0]);
	free(b.p);
}

static void bad_magic(void **state)
{
	struct gg g = { 0 };
	struct bytes b = finish(&g, 3, 0, 32);
	memcpy(b.p, "GGML", 4);
	expect(b, b.n, SC_EMAGIC);
}

static void unknown_version(void **state)
{
	struct gg g = { 0 };
	expect(finish(&g, 1, 0, 32), 32, SC_EVERSION);
	struct gg h = { 0 };
	expect(finish(&h, 0x03000000, 0, 32), 32, SC_EVERSION);
}

static void huge_string_length(void **state)
{
	struct gg g = { 0 };
	b_u64(&g.kv, 1ULL << 62);  /* key length */
	b_put(&g.kv, "abc", 3);
	g.n_kv = 1;
	struct bytes b = finish(&g, 3, 0, 32);
	expect(b, b.n, SC_ELENGTH);
}

static void huge_array_count(void **state)
{
	struct gg g = { 0 };
	b_str(&g.kv, "tokens");
	b_u32(&g.kv, GGUF_ARRAY);
	b_u32(&g.kv, GGUF_STRING);
	b_u64(&g.kv, 1ULL << 60);
	g.n_kv = 1;
	struct bytes b = finish(&g, 3, 0, 32);
	expect(b, b.n, SC_ELENGTH);
	struct gg h = { 0 };
	b_str(&h.kv, "ints");
	b_u32(&h.kv, GGUF_ARRAY);
	b_u32(&h.kv, GGUF_U64);
	b_u64(&h.kv, 1ULL << 61);
	h.n_kv = 1;
	b = finish(&h, 3, 0, 32);
	expect(b, b.n, SC_ELENGTH);
}

static void counts_larger_than_the_file(void **state)
{
	struct gg g = { 0 };
	g.n_t = 1ULL << 40;
	struct bytes b = finish(&g, 3, 0, 32);
	expect(b, b.n, SC_ELENGTH);
	struct gg h = { 0 };
	h.n_kv = 1ULL << 50;
	b = finish(&h, 3, 0, 32);
	expect(b, b.n, SC_ELENGTH);
}

static void truncated_tensor_infos(void **state)
{
	struct gg g = { 0 };
	add_tensor(&g, "t", 0, 8, 1, 0);
	struct bytes b = finish(&g, 3, 0, 32);
	/* 24 bytes of header, then a 41-byte tensor info: end the file in it */
	b.n = 24 + 30;
	expect(b, b.n, SC_ELENGTH);
}

static void short_buffer_asks_for_more(void **state)
{
	struct gg g = { 0 };
	add_tensor(&g, "t", 0, 8, 1, 0);
	struct bytes b = finish(&g, 3, 32, 32);
	struct gguf_file f;
	sc_err e;
	assert_int_equal(sc_gguf_parse(b.p, 30, b.n, &f, &e), SC_ETRUNC);
	assert_int_equal(sc_gguf_parse(b.p, b.n, b.n, &f, &e), 0);
	sc_gguf_file_done(&f);
	free(b.p);
}

static void bad_types_dims_and_offsets(void **state)
{
	struct gg g = { 0 };
	add_tensor(&g, "t", 99, 8, 1, 0);
	struct bytes b = finish(&g, 3, 0, 32);
	expect(b, b.n, SC_EDTYPE);
	struct gg h = { 0 };
	add_tensor(&h, "t", 12, 100, 1, 0);  /* 100 values are not Q4_K blocks of 256 */
	b = finish(&h, 3, 0, 32);
	expect(b, b.n, SC_ESIZE);
	struct gg k = { 0 };
	add_tensor(&k, "t", 0, 8, 1, 3);  /* offset not aligned */
	b = finish(&k, 3, 64, 32);
	expect(b, b.n, SC_EOFFSETS);
	struct gg m = { 0 };
	b_str(&m.kv, "x");
	b_u32(&m.kv, 13);  /* no such value type */
	m.n_kv = 1;
	b = finish(&m, 3, 0, 32);
	expect(b, b.n, SC_EDTYPE);
	struct gg a = { 0 };
	kv_u32(&a, "general.alignment", 48);
	b = finish(&a, 3, 0, 32);
	expect(b, b.n, SC_ENOTOBJ);
	/* [2^62, 1] of F32 is 2^64 bytes: it wrapped to 0 and passed as ok */
	struct gg o = { 0 };
	add_tensor(&o, "huge", 0, 1ULL << 62, 1, 0);
	b = finish(&o, 3, 0, 32);
	expect(b, b.n, SC_ESIZE);
	struct gg p = { 0 };
	add_tensor(&p, "wide", 0, 1ULL << 40, 1ULL << 40, 0);
	b = finish(&p, 3, 0, 32);
	expect(b, b.n, SC_ESIZE);
}

static void real_tiny_llama(void **state)
{
	struct bytes b;
	struct gguf_file f;
	sc_err e;
	assert_int_equal(load_fixture("llama-2-tiny-random.gguf", &b), 0);
	assert_int_equal(sc_gguf_parse(b.p, b.n, b.n, &f, &e), 0);
	assert_int_equal(f.version, 3);
	assert_int_equal(f.n_tensors, 12);
	assert_int_equal(f.n_kv, 18);
	assert_int_equal(f.alignment, 32);
	assert_int_equal(f.data_start, 724416);
	assert_int_equal(f.data_end, b.n);
	uint64_t ft;
	assert_true(sc_gguf_get_uint(&f, "general.file_type", &ft) && ft == 1);
	assert_string_equal(sc_gguf_get_str(&f, "general.architecture"), "llama");
	sc_gguf_file_done(&f);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_value_types_and_nested_arrays),
		cmocka_unit_test(tensor_sizes_alignment_and_data_end),
		cmocka_unit_test(version_2_reads_like_3),
		cmocka_unit_test(bad_magic),
		cmocka_unit_test(unknown_version),
		cmocka_unit_test(huge_string_length),
		cmocka_unit_test(huge_array_count),
		cmocka_unit_test(counts_larger_than_the_file),
		cmocka_unit_test(truncated_tensor_infos),
		cmocka_unit_test(short_buffer_asks_for_more),
		cmocka_unit_test(bad_types_dims_and_offsets),
		cmocka_unit_test(real_tiny_llama),
	};
	return RUN(tests);
}
