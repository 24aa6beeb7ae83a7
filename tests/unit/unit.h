/* Shared by the unit tests: cmocka, TAP output, and byte-buffer builders. */
#ifndef SC_UNIT_H
#define SC_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/real"
#endif

/* A growable byte buffer for building files in memory. */
struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static inline void b_put(struct bytes *b, const void *d, size_t n)
{
	if (!n)
		return;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static inline void b_u32(struct bytes *b, uint32_t v) { b_put(b, &v, 4); }
static inline void b_u64(struct bytes *b, uint64_t v) { b_put(b, &v, 8); }
static inline void b_str(struct bytes *b, const char *s) { b_u64(b, strlen(s)); b_put(b, s, strlen(s)); }

/* A safetensors file: 8-byte length + json + data_len zero bytes. */
static inline struct bytes st_file(const char *json, size_t data_len)
{
	struct bytes b = { 0 };
	b_u64(&b, strlen(json));
	b_put(&b, json, strlen(json));
	for (size_t i = 0; i < data_len; i++)
		b_put(&b, "", 1);
	return b;
}

static inline int load_fixture(const char *name, struct bytes *out)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t buf[65536];
	size_t n;
	*out = (struct bytes){ 0 };
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		b_put(out, buf, n);
	fclose(f);
	return 0;
}

#define RUN(tests) (cmocka_set_message_output(CM_OUTPUT_TAP), cmocka_run_group_tests(tests, NULL, NULL))

#endif
