/* A streaming JSON scanner for large machine-written documents (the
 * safetensors header, the shard index): it checks the whole grammar but
 * builds no tree, and hands its callers strings, integers and containers
 * one at a time. Callers walk the structure they expect. */
#ifndef SC_JSCAN_H
#define SC_JSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../base/err.h"

struct jp {
	const uint8_t *start, *p, *end;
	sc_err *e;
};

static inline void js_skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static inline int js_expect(struct jp *j, char c)
{
	js_skip_ws(j);
	if (j->p >= j->end)
		return sc_error(j->e, SC_ENOTJSON, "header JSON ends early, expected '%c'", c);
	if (*j->p != (uint8_t)c)
		return sc_error(j->e, SC_ENOTJSON, "expected '%c' at header byte %zu", c, (size_t)(j->p - j->start));
	j->p++;
	return 0;
}

/* A string at the cursor: *s and *n the raw contents, *esc when it holds
 * escapes; escapes and UTF-8 are checked. */
int sc_js_scan_string(struct jp *j, const uint8_t **s, size_t *n, int *esc);
/* Decode a scanned string into out (room for n + 1 bytes). */
int sc_js_decode_string(struct jp *j, const uint8_t *s, size_t n, int esc, char *out, size_t *ret);
/* A non-negative integer; fractions and negatives are shape errors. */
int sc_js_parse_u64(struct jp *j, uint64_t *ret);
int sc_js_skip_literal(struct jp *j, const char *lit);
/* Any value, checked, at most 64 levels deep. */
int sc_js_skip_value(struct jp *j, int depth);
/* A value of the wrong kind: a grammar error in it wins over the shape
 * error, so broken JSON is always reported as such. */
int sc_js_wrong_kind(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open a container at the cursor: <0 when it is not there, 0 when it is
 * empty (and closed), 1 when members follow. */
int sc_js_begin(struct jp *j, char open, char close);

/* After a member: 1 when another follows, 0 at the (consumed) close. */
static inline int js_next_member(struct jp *j, char close)
{
	js_skip_ws(j);
	if (j->p < j->end && *j->p == ',') {
		j->p++;
		return 1;
	}
	int r = js_expect(j, close);
	return r < 0 ? r : 0;
}

/* The exact string "k" (no escapes) at the cursor? Consumed if so. */
static inline int js_plain_string(struct jp *j, const char *k, size_t n)
{
	if ((size_t)(j->end - j->p) < n + 2 || j->p[0] != '"' || j->p[n + 1] != '"' || memcmp(j->p + 1, k, n) != 0)
		return 0;
	j->p += n + 2;
	return 1;
}

/* A string of at most 15 plain ASCII characters (dtype names) at the
 * cursor; 0 leaves anything else to the general scanner. */
static inline int js_short_plain_string(struct jp *j, const uint8_t **s, size_t *n)
{
	const uint8_t *p = j->p + 1;
	for (size_t i = 0; i < 16 && p + i < j->end; i++) {
		uint8_t c = p[i];
		if (c == '"') {
			*s = p;
			*n = i;
			j->p = p + i + 1;
			return 1;
		}
		if (c == '\\' || c < 0x20 || c >= 0x80)
			return 0;
	}
	return 0;
}

#endif
