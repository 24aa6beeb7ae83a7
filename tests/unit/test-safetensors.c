/* The safetensors header reader: every rule of the reference reader, each
 * class of bad input with its own error, the real sample files. */
#include "unit.h"

#include <time.h>
#include "../../lib/format/dtype.h"
#include "../../lib/format/safetensors.h"

static int parse_json(const char *json, size_t data_len, struct st_header *h, sc_err *e)
{
	struct bytes b = st_file(json, data_len);
	int r = sc_st_parse(b.p, b.n, b.n, h, e);
	free(b.p);
	return r;
}

static void expect_error(const char *json, size_t data_len, int code)
{
	struct st_header h;
	sc_err e = { "" };
	int r = parse_json(json, data_len, &h, &e);
	if (r != code)
		print_error("for %s: expected %s, got %d (%s) \"%s\"\n", json, sc_strerror(code), r, sc_strerror(r), e.msg);
	assert_int_equal(r, code);
	assert_true(e.msg[0] != '\0');
}

static void valid_header_gives_tensors_in_offset_order(void **state)
{
	struct st_header h;
	sc_err e;
	/* names in the reverse of offset order: a sort by name must fail this */
	const char *j = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]},"
			"\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]},"
			"\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\"}}";
	assert_int_equal(parse_json(j, 24, &h, &e), 0);
	assert_int_equal(h.n_tensors, 2);
	assert_string_equal(st_tensor_name(&h, &h.tensors[0]), "b");
	assert_string_equal(st_tensor_name(&h, &h.tensors[1]), "a");
	assert_int_equal(h.tensors[0].dtype, ST_BF16);
	assert_int_equal(h.tensors[1].ndim, 2);
	assert_int_equal(sc_st_tensor_elements(&h, &h.tensors[1]), 4);
	assert_int_equal(h.data_len, 24);
	assert_int_equal(h.n_meta, 2);
	assert_string_equal(h.meta, "format");
	sc_st_header_done(&h);
}

static void header_need_not_be_padded_to_8(void **state)
{
	struct st_header h;
	sc_err e;
	/* 51 bytes of JSON: not a multiple of 8 */
	const char *j = "{\"x\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}";
	assert_int_not_equal(strlen(j) % 8, 0);
	assert_int_equal(parse_json(j, 3, &h, &e), 0);
	sc_st_header_done(&h);
}

static void escapes_and_unicode_names_decode(void **state)
{
	struct st_header h;
	sc_err e;
	const char *j = "{\"a\\\"b\\u00e9\\ud83d\\ude00\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
	assert_int_equal(parse_json(j, 1, &h, &e), 0);
	assert_string_equal(st_tensor_name(&h, &h.tensors[0]), "a\"b\xc3\xa9\xf0\x9f\x98\x80");
	sc_st_header_done(&h);
}

static void scalars_empty_tensors_and_padding_spaces(void **state)
{
	struct st_header h;
	sc_err e;
	const char *j = "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
			"\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[4,4]}}     ";
	assert_int_equal(parse_json(j, 4, &h, &e), 0);
	assert_int_equal(h.n_tensors, 2);
	/* a scalar holds one element (the empty product), an empty tensor none */
	assert_string_equal(st_tensor_name(&h, &h.tensors[0]), "s");
	assert_int_equal(sc_st_tensor_elements(&h, &h.tensors[0]), 1);
	assert_int_equal(sc_st_tensor_elements(&h, &h.tensors[1]), 0);
	sc_st_header_done(&h);
}

static void sub_byte_dtypes_need_whole_bytes(void **state)
{
	struct st_header h;
	sc_err e;
	assert_int_equal(parse_json("{\"f\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 2, &h, &e), 0);
	sc_st_header_done(&h);
	expect_error("{\"f\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2, SC_ESIZE);
	assert_int_equal(parse_json("{\"f\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[0,3]}}", 3, &h, &e), 0);
	sc_st_header_done(&h);
}

static void file_shorter_than_8_bytes(void **state)
{
	struct st_header h;
	sc_err e;
	uint8_t b[5] = { 0 };
	assert_int_equal(sc_st_parse(b, sizeof b, sizeof b, &h, &e), SC_ESHORT);
}

static void header_length_over_limit(void **state)
{
	struct st_header h;
	sc_err e;
	uint8_t b[16] = { 0 };
	uint64_t n = ST_MAX_HEADER + 1;
	memcpy(b, &n, 8);
	assert_int_equal(sc_st_parse(b, sizeof b, UINT64_MAX / 2, &h, &e), SC_ETOOBIG);
}

static void header_length_past_the_file(void **state)
{
	struct st_header h;
	sc_err e;
	struct bytes b = st_file("{}", 0);
	assert_int_equal(sc_st_parse(b.p, b.n, b.n - 1, &h, &e), SC_EPASTEOF);
	free(b.p);
}

static void not_json(void **state)
{
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]", 1, SC_ENOTJSON);
	expect_error("garbage!", 0, SC_ENOTJSON);
	expect_error("{\"a\":tru}", 0, SC_ENOTJSON);
	expect_error("{} x", 0, SC_ENOTJSON);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[01],\"data_offsets\":[0,1]}}", 1, SC_ENOTJSON);
	expect_error("{\"a\x01\":1}", 0, SC_ENOTJSON);
	expect_error("{\"a\":\"\\q\"}", 0, SC_ENOTJSON);
}

static void invalid_utf8(void **state)
{
	expect_error("{\"\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, SC_EUTF8);
	expect_error("{\"\xc0\xaf\":{}}", 0, SC_EUTF8);     /* overlong */
	expect_error("{\"\xed\xa0\x80\":{}}", 0, SC_EUTF8); /* surrogate */
	expect_error("{\"\\ud800\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, SC_EUTF8);
}

static void not_an_object(void **state)
{
	expect_error("[1,2]", 0, SC_ENOTOBJ);
	expect_error("{\"a\":5}", 0, SC_ENOTOBJ);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 0, SC_ENOTOBJ);  /* no offsets */
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1, SC_ENOTOBJ);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, SC_ENOTOBJ);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1, SC_ENOTOBJ);
	expect_error("{\"__metadata__\":{\"k\":1}}", 0, SC_ENOTOBJ);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,1]}}", 1, SC_ENOTOBJ);
	/* the boundary: 2^64 - 1 is a number (whose size then overflows), 2^64 is not */
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,0]}}", 0, SC_ENOTOBJ);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551615],\"data_offsets\":[0,0]}}", 0, SC_ESIZE);
}

static void unknown_dtype(void **state)
{
	expect_error("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, SC_EDTYPE);
}

static void offsets_with_a_hole_or_overlap(void **state)
{
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, SC_EOFFSETS);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
		     "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3, SC_EOFFSETS);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
		     "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}", 3, SC_EOFFSETS);
	expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[3,1]}}", 3, SC_EOFFSETS);
}

static void shape_times_dtype_differs_from_bytes(void **state)
{
	expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, SC_ESIZE);
	expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4, SC_ESIZE);
}

static void truncated_and_oversized_are_visible_to_the_caller(void **state)
{
	struct st_header h;
	sc_err e;
	struct bytes b = st_file("{\"a\":{\"dtype\":\"U8\",\"shape\":[100],\"data_offsets\":[0,100]}}", 100);
	uint64_t full = b.n;
	assert_int_equal(sc_st_parse(b.p, b.n, full - 10, &h, &e), 0);
	assert_true(8 + h.header_len + h.data_len > full - 10);
	sc_st_header_done(&h);
	free(b.p);
}

static void real_samples_parse(void **state)
{
	static const struct { const char *file; int dtype; } s[] = {
		{ "B.safetensors", ST_U8 }, { "H.safetensors", ST_U16 }, { "I.safetensors", ST_U32 },
		{ "b.safetensors", ST_I8 }, { "h.safetensors", ST_I16 }, { "i.safetensors", ST_I32 },
		{ "e.safetensors", ST_F16 }, { "f.safetensors", ST_F32 }, { "d.safetensors", ST_F64 },
	};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		struct bytes b;
		struct st_header h;
		sc_err e;
		assert_int_equal(load_fixture(s[i].file, &b), 0);
		int r = sc_st_parse(b.p, b.n, b.n, &h, &e);
		if (r < 0)
			print_error("%s: %s\n", s[i].file, e.msg);
		assert_int_equal(r, 0);
		assert_int_equal(h.n_tensors, 1);
		assert_int_equal(h.tensors[0].dtype, s[i].dtype);
		assert_int_equal(8 + h.header_len + h.data_len, b.n);
		assert_int_equal(h.n_meta, 1);
		assert_string_equal(h.meta, "test");
		assert_string_equal(h.meta + 5, "a");
		sc_st_header_done(&h);
		free(b.p);
	}
}

static void index_lists_distinct_shards(void **state)
{
	struct st_index x;
	sc_err e;
	const char *j = "{\"metadata\":{\"total_size\":123},\"weight_map\":{\"a\":\"m-1.safetensors\","
			"\"b\":\"m-2.safetensors\",\"c\":\"m-1.safetensors\",\"d\":\"m-2.safetensors\"}}";
	assert_int_equal(sc_st_index_parse((const uint8_t *)j, strlen(j), &x, &e), 0);
	assert_int_equal(x.n_shards, 2);
	assert_int_equal(x.n_entries, 4);
	assert_string_equal(x.shards[0], "m-1.safetensors");
	assert_string_equal(x.shards[1], "m-2.safetensors");
	assert_true(x.has_total_size);
	assert_int_equal(x.total_size, 123);
	sc_st_index_done(&x);
	const char *bad = "{\"metadata\":{}}";
	assert_int_equal(sc_st_index_parse((const uint8_t *)bad, strlen(bad), &x, &e), SC_ENOTOBJ);
	const char *broken = "{\"weight_map\":{\"a\":";
	assert_int_equal(sc_st_index_parse((const uint8_t *)broken, strlen(broken), &x, &e), SC_ENOTJSON);
	const char *num = "{\"weight_map\":{\"a\":3}}";
	assert_int_equal(sc_st_index_parse((const uint8_t *)num, strlen(num), &x, &e), SC_ENOTOBJ);
}

/* An index naming 100,000 distinct shards arrives with any download: it
 * took 47 s when each name was compared with every earlier one. */
static void index_of_100000_shards_is_linear(void **state)
{
	struct bytes b = { 0 };
	char item[96];
	struct st_index x;
	sc_err e;
	b_put(&b, "{\"weight_map\":{", 15);
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(item, sizeof item, "%s\"t%d\":\"model-%06d.safetensors\"", i ? "," : "", i, i);
		b_put(&b, item, (size_t)n);
	}
	b_put(&b, ",\"again\":\"model-000007.safetensors\"}}", 37);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sc_st_index_parse(b.p, b.n, &x, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_int_equal(x.n_shards, 100000);
	assert_int_equal(x.n_entries, 100001);
	assert_string_equal(x.shards[99999], "model-099999.safetensors");
	/* well under 100 ms in a plain build; the bound leaves room for the
	 * sanitizers and a loaded machine, and still fails the quadratic one */
	assert_true(ms < 2000);
	sc_st_index_done(&x);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_header_gives_tensors_in_offset_order),
		cmocka_unit_test(header_need_not_be_padded_to_8),
		cmocka_unit_test(escapes_and_unicode_names_decode),
		cmocka_unit_test(scalars_empty_tensors_and_padding_spaces),
		cmocka_unit_test(sub_byte_dtypes_need_whole_bytes),
		cmocka_unit_test(file_shorter_than_8_bytes),
		cmocka_unit_test(header_length_over_limit),
		cmocka_unit_test(header_length_past_the_file),
		cmocka_unit_test(not_json),
		cmocka_unit_test(invalid_utf8),
		cmocka_unit_test(not_an_object),
		cmocka_unit_test(unknown_dtype),
		cmocka_unit_test(offsets_with_a_hole_or_overlap),
		cmocka_unit_test(shape_times_dtype_differs_from_bytes),
		cmocka_unit_test(truncated_and_oversized_are_visible_to_the_caller),
		cmocka_unit_test(real_samples_parse),
		cmocka_unit_test(index_lists_distinct_shards),
		cmocka_unit_test(index_of_100000_shards_is_linear),
	};
	return RUN(tests);
}
