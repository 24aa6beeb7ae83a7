#include "jscan.h"
#include "../base/util.h"

#include <stdarg.h>
#include <stdio.h>
#define ONES 0x0101010101010101ULL

/* Length of a valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, const uint8_t *end)
{
	uint8_t c = p[0];
	size_t n;
	uint32_t min, cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; min = 0x80; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; min = 0x800; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; min = 0x10000; cp = c & 0x07;
	} else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int hex4(const uint8_t *p, uint32_t *v)
{
	uint32_t r = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t c = p[i];
		r <<= 4;
		if (c >= '0' && c <= '9') r |= c - '0';
		else if (c >= 'a' && c <= 'f') r |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') r |= c - 'A' + 10;
		else return -1;
	}
	*v = r;
	return 0;
}

/* Scan a string starting at '"'. Sets *s and *n to the raw contents and *esc when
 * it holds escapes; checks escapes and UTF-8. */
int sc_js_scan_string(struct jp *j, const uint8_t **s, size_t *n, int *esc)
{
	js_skip_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return sc_error(j->e, SC_ENOTJSON, "expected a string in header JSON");
	const uint8_t *p = ++j->p, *end = j->end;
	*esc = 0;
	*s = p;
	while (p < end) {
		/* eight plain ASCII bytes at a time: none is '"', '\\', a control
		 * character or >= 0x80 */
		while (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
			uint64_t hit = (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w) | w) & (ONES * 0x80);
			if (hit) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				/* the lowest flagged byte is exact: borrows only run upwards */
				p += __builtin_ctzll(hit) / 8;
#endif
				break;
			}
			p += 8;
		}
		if (p >= end)
			break;
		uint8_t c = *p;
		if (c == '"') {
			*n = (size_t)(p - *s);
			j->p = p + 1;
			return 0;
		}
		if (c == '\\') {
			*esc = 1;
			if (end - p < 2)
				break;
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u': {
				uint32_t v;
				if (end - p < 6 || hex4(p + 2, &v) < 0)
					return sc_error(j->e, SC_ENOTJSON, "bad \\u escape in header JSON");
				p += 6;
				continue;
			}
			default:
				return sc_error(j->e, SC_ENOTJSON, "bad escape in header JSON");
			}
		}
		if (c < 0x20)
			return sc_error(j->e, SC_ENOTJSON, "control character in a header JSON string");
		if (c >= 0x80) {
			size_t k = utf8_seq(p, end);
			if (!k)
				return sc_error(j->e, SC_EUTF8, "header is not valid UTF-8");
			p += k;
			continue;
		}
		p++;
	}
	return sc_error(j->e, SC_ENOTJSON, "unterminated string in header JSON");
}

/* Decode a scanned string into out (room for n + 1 bytes); returns length. */
int sc_js_decode_string(struct jp *j, const uint8_t *s, size_t n, int esc, char *out, size_t *ret)
{
	if (!esc) {
		memcpy(out, s, n);
		out[n] = '\0';
		*ret = n;
		return 0;
	}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (s[i] != '\\') {
			out[o++] = (char)s[i++];
			continue;
		}
		char c = (char)s[i + 1];
		if (c != 'u') {
			out[o++] = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' :
				   c == 'r' ? '\r' : c == 't' ? '\t' : c;
			i += 2;
			continue;
		}
		uint32_t cp, lo;
		hex4(s + i + 2, &cp);
		i += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u' || hex4(s + i + 2, &lo) < 0 ||
			    lo < 0xdc00 || lo > 0xdfff)
				return sc_error(j->e, SC_EUTF8, "lone surrogate in header JSON");
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		} else if (cp >= 0xdc00 && cp <= 0xdfff)
			return sc_error(j->e, SC_EUTF8, "lone surrogate in header JSON");
		if (cp == 0)
			return sc_error(j->e, SC_ENOTOBJ, "NUL character in a header name");
		/* A \u escape is 6 bytes and encodes to at most 4: it always fits. */
		if (cp < 0x80)
			out[o++] = (char)cp;
		else if (cp < 0x800) {
			out[o++] = (char)(0xc0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xe0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | (cp >> 18));
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	out[o] = '\0';
	*ret = o;
	return 0;
}

static int js_skip_number(struct jp *j)
{
	const uint8_t *p = j->p, *end = j->end;
	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return sc_error(j->e, SC_ENOTJSON, "bad number in header JSON");
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return sc_error(j->e, SC_ENOTJSON, "bad number in header JSON");
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return sc_error(j->e, SC_ENOTJSON, "bad number in header JSON");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return sc_error(j->e, SC_ENOTJSON, "bad number in header JSON");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	return 0;
}

int sc_js_parse_u64(struct jp *j, uint64_t *ret)
{
	js_skip_ws(j);
	const uint8_t *p = j->p, *end = j->end;
	uint64_t v = 0;
	if (p < end && *p == '-') {
		int r = js_skip_number(j);
		return r < 0 ? r : sc_error(j->e, SC_ENOTOBJ, "negative number where a size belongs");
	}
	if (p >= end || *p < '0' || *p > '9')
		return sc_error(j->e, SC_ENOTJSON, "bad number in header JSON");
	/* 19 digits cannot overflow: only the 20th needs the check */
	for (const uint8_t *stop = end - p > 19 ? p + 19 : end; p < stop && (unsigned)(*p - '0') < 10; p++)
		v = v * 10 + (unsigned)(*p - '0');
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		/* UINT64_MAX is 18446744073709551615 */
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return sc_error(j->e, SC_ENOTOBJ, "integer over 2^64 in header");
		v = v * 10 + d;
	}
	if (p - j->p > 1 && *j->p == '0')
		return sc_error(j->e, SC_ENOTJSON, "number with a leading zero");
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
		int r = js_skip_number(j);
		return r < 0 ? r : sc_error(j->e, SC_ENOTOBJ, "fraction where an integer belongs");
	}
	j->p = p;
	*ret = v;
	return 0;
}

int sc_js_skip_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return sc_error(j->e, SC_ENOTJSON, "invalid token in header JSON");
	j->p += n;
	return 0;
}

/* Open a container at the cursor: <0 when it is not there, 0 when it is
 * empty (and closed), 1 when members follow. */
int sc_js_begin(struct jp *j, char open, char close)
{
	js_skip_ws(j);
	if (j->p >= j->end || *j->p != (uint8_t)open)
		return sc_error(j->e, SC_ENOTJSON, "expected '%c' at header byte %zu", open, (size_t)(j->p - j->start));
	j->p++;
	js_skip_ws(j);
	if (j->p < j->end && *j->p == (uint8_t)close) {
		j->p++;
		return 0;
	}
	return 1;
}


int sc_js_skip_value(struct jp *j, int depth)
{
	const uint8_t *s;
	size_t n;
	int esc, r;
	if (depth > 64)
		return sc_error(j->e, SC_ENOTJSON, "header JSON nested too deep");
	js_skip_ws(j);
	if (j->p >= j->end)
		return sc_error(j->e, SC_ENOTJSON, "header JSON ends early");
	switch (*j->p) {
	case '"':
		return sc_js_scan_string(j, &s, &n, &esc);
	case '{':
		if ((r = sc_js_begin(j, '{', '}')) <= 0)
			return r;
		do {
			if ((r = sc_js_scan_string(j, &s, &n, &esc)) < 0 || (r = js_expect(j, ':')) < 0 ||
			    (r = sc_js_skip_value(j, depth + 1)) < 0)
				return r;
		} while ((r = js_next_member(j, '}')) > 0);
		return r;
	case '[':
		if ((r = sc_js_begin(j, '[', ']')) <= 0)
			return r;
		do {
			if ((r = sc_js_skip_value(j, depth + 1)) < 0)
				return r;
		} while ((r = js_next_member(j, ']')) > 0);
		return r;
	case 't':
		return sc_js_skip_literal(j, "true");
	case 'f':
		return sc_js_skip_literal(j, "false");
	case 'n':
		return sc_js_skip_literal(j, "null");
	default:
		return js_skip_number(j);
	}
}

/* A value of the wrong kind: a grammar error in it wins over the shape
 * error, so broken JSON is always reported as such. */
int sc_js_wrong_kind(struct jp *j, const char *fmt, ...)
{
	int r = sc_js_skip_value(j, 1);
	if (r < 0)
		return r;
	if (j->e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(j->e->msg, sizeof j->e->msg, fmt, ap);
		va_end(ap);
	}
	return SC_ENOTOBJ;
}
