#include "safetensors.h"
#include "dtype.h"
#include "util.h"

#include <stdarg.h>

struct jp {
	const uint8_t *start, *p, *end;
	sc_err *e;
};

static inline void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static inline int expect(struct jp *j, char c)
{
	skip_ws(j);
	if (j->p >= j->end)
		return sc_error(j->e, SC_ENOTJSON, "header JSON ends early, expected '%c'", c);
	if (*j->p != (uint8_t)c)
		return sc_error(j->e, SC_ENOTJSON, "expected '%c' at header byte %zu",
				c, (size_t)(j->p - j->start));
	j->p++;
	return 0;
}

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
static int scan_string(struct jp *j, const uint8_t **s, size_t *n, int *esc)
{
	skip_ws(j);
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
static int decode_string(struct jp *j, const uint8_t *s, size_t n, int esc, char *out, size_t *ret)
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

static int skip_number(struct jp *j)
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

static int parse_u64(struct jp *j, uint64_t *ret)
{
	skip_ws(j);
	const uint8_t *p = j->p, *end = j->end;
	uint64_t v = 0;
	if (p < end && *p == '-') {
		int r = skip_number(j);
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
		int r = skip_number(j);
		return r < 0 ? r : sc_error(j->e, SC_ENOTOBJ, "fraction where an integer belongs");
	}
	j->p = p;
	*ret = v;
	return 0;
}

static int skip_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return sc_error(j->e, SC_ENOTJSON, "invalid token in header JSON");
	j->p += n;
	return 0;
}

/* Open a container at the cursor: <0 when it is not there, 0 when it is
 * empty (and closed), 1 when members follow. */
static int begin(struct jp *j, char open, char close)
{
	skip_ws(j);
	if (j->p >= j->end || *j->p != (uint8_t)open)
		return sc_error(j->e, SC_ENOTJSON, "expected '%c' at header byte %zu", open, (size_t)(j->p - j->start));
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == (uint8_t)close) {
		j->p++;
		return 0;
	}
	return 1;
}

/* After a member: 1 when another follows, 0 at the (consumed) close. */
static inline int next_member(struct jp *j, char close)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == ',') {
		j->p++;
		return 1;
	}
	int r = expect(j, close);
	return r < 0 ? r : 0;
}

static int skip_value(struct jp *j, int depth)
{
	const uint8_t *s;
	size_t n;
	int esc, r;
	if (depth > 64)
		return sc_error(j->e, SC_ENOTJSON, "header JSON nested too deep");
	skip_ws(j);
	if (j->p >= j->end)
		return sc_error(j->e, SC_ENOTJSON, "header JSON ends early");
	switch (*j->p) {
	case '"':
		return scan_string(j, &s, &n, &esc);
	case '{':
		if ((r = begin(j, '{', '}')) <= 0)
			return r;
		do {
			if ((r = scan_string(j, &s, &n, &esc)) < 0 || (r = expect(j, ':')) < 0 ||
			    (r = skip_value(j, depth + 1)) < 0)
				return r;
		} while ((r = next_member(j, '}')) > 0);
		return r;
	case '[':
		if ((r = begin(j, '[', ']')) <= 0)
			return r;
		do {
			if ((r = skip_value(j, depth + 1)) < 0)
				return r;
		} while ((r = next_member(j, ']')) > 0);
		return r;
	case 't':
		return skip_literal(j, "true");
	case 'f':
		return skip_literal(j, "false");
	case 'n':
		return skip_literal(j, "null");
	default:
		return skip_number(j);
	}
}

/* A value of the wrong kind: a grammar error in it wins over the shape
 * error, so broken JSON is always reported as such. */
static int wrong_kind(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wrong_kind(struct jp *j, const char *fmt, ...)
{
	int r = skip_value(j, 1);
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

struct builder {
	struct st_header *h;
	size_t cap_tensors, cap_dims, n_dims, names_len, meta_len;
};

static int parse_metadata(struct jp *j, struct builder *b)
{
	int r, esc;
	const uint8_t *s;
	size_t n, out;
	skip_ws(j);
	if (j->p < j->end && *j->p == 'n')
		return skip_literal(j, "null");
	if (j->p >= j->end || *j->p != '{')
		return wrong_kind(j, "__metadata__ is not an object");
	if ((r = begin(j, '{', '}')) <= 0)
		return r;
	do {
		if ((r = scan_string(j, &s, &n, &esc)) < 0 ||
		    (r = decode_string(j, s, n, esc, b->h->meta + b->meta_len, &out)) < 0)
			return r;
		b->meta_len += out + 1;
		if ((r = expect(j, ':')) < 0)
			return r;
		skip_ws(j);
		if (j->p >= j->end || *j->p != '"')
			return wrong_kind(j, "__metadata__ value is not a string");
		if ((r = scan_string(j, &s, &n, &esc)) < 0 ||
		    (r = decode_string(j, s, n, esc, b->h->meta + b->meta_len, &out)) < 0)
			return r;
		b->meta_len += out + 1;
		b->h->n_meta++;
	} while ((r = next_member(j, '}')) > 0);
	return r;
}

static int parse_shape(struct jp *j, struct builder *b, struct st_tensor *t)
{
	struct st_header *h = b->h;
	int r;
	skip_ws(j);
	if (j->p >= j->end || *j->p != '[')
		return wrong_kind(j, "shape of \"%s\" is not an array", h->names + t->name);
	t->dims = (uint32_t)b->n_dims;
	t->ndim = 0;
	if ((r = begin(j, '[', ']')) <= 0)
		return r;
	do {
		uint64_t v;
		if ((r = parse_u64(j, &v)) < 0)
			return r;
		if (t->ndim == 255)
			return sc_error(j->e, SC_ENOTOBJ, "shape with more than 255 dimensions");
		if (sc_grow(&h->dims, &b->cap_dims, b->n_dims + 1, sizeof *h->dims) < 0)
			return sc_error(j->e, -ENOMEM, "out of memory");
		h->dims[b->n_dims++] = v;
		t->ndim++;
	} while ((r = next_member(j, ']')) > 0);
	return r;
}

static int parse_offsets(struct jp *j, struct st_tensor *t)
{
	int r;
	skip_ws(j);
	if (j->p >= j->end || *j->p != '[')
		return wrong_kind(j, "data_offsets is not an array");
	j->p++;
	if ((r = parse_u64(j, &t->begin)) < 0 || (r = expect(j, ',')) < 0 ||
	    (r = parse_u64(j, &t->end)) < 0)
		return r == SC_ENOTJSON ? sc_error(j->e, SC_ENOTOBJ, "data_offsets must hold two integers") : r;
	skip_ws(j);
	if (j->p < j->end && *j->p != ']')
		return sc_error(j->e, SC_ENOTOBJ, "data_offsets must hold two integers");
	return expect(j, ']');
}

/* The exact string "k" (no escapes) at the cursor? Consumed if so. */
static inline int plain_string(struct jp *j, const char *k, size_t n)
{
	if ((size_t)(j->end - j->p) < n + 2 || j->p[0] != '"' || j->p[n + 1] != '"' || memcmp(j->p + 1, k, n) != 0)
		return 0;
	j->p += n + 2;
	return 1;
}

/* A string of at most 15 plain ASCII characters (dtype names) at the
 * cursor; 0 leaves anything else to the general scanner. */
static inline int short_plain_string(struct jp *j, const uint8_t **s, size_t *n)
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

#define HAVE_DTYPE 1
#define HAVE_SHAPE 2
#define HAVE_OFFSETS 4

static int parse_tensor(struct jp *j, struct builder *b, const char *name, size_t name_len)
{
	struct st_header *h = b->h;
	const uint8_t *s;
	size_t n;
	int esc, r, have = 0;
	if (sc_grow(&h->tensors, &b->cap_tensors, h->n_tensors + 1, sizeof *h->tensors) < 0)
		return sc_error(j->e, -ENOMEM, "out of memory");
	struct st_tensor *t = &h->tensors[h->n_tensors];
	memset(t, 0, sizeof *t);
	t->name = (uint32_t)(name - h->names);
	t->name_len = (uint32_t)name_len;
	skip_ws(j);
	if (j->p >= j->end || *j->p != '{')
		return wrong_kind(j, "tensor \"%s\" is not an object", name);
	if ((r = begin(j, '{', '}')) < 0)
		return r;
	while (r > 0) {
		/* every writer spells the three keys the same: recognized here
		 * without the general scanner, which stays for anything else */
		skip_ws(j);
		if (plain_string(j, "dtype", 5)) {
			s = (const uint8_t *)"dtype", n = 5, esc = 0;
		} else if (plain_string(j, "shape", 5)) {
			s = (const uint8_t *)"shape", n = 5, esc = 0;
		} else if (plain_string(j, "data_offsets", 12)) {
			s = (const uint8_t *)"data_offsets", n = 12, esc = 0;
		} else if ((r = scan_string(j, &s, &n, &esc)) < 0)
			return r;
		if ((r = expect(j, ':')) < 0)
			return r;
		if (!esc && n == 5 && memcmp(s, "dtype", 5) == 0) {
			const uint8_t *v;
			size_t vn;
			skip_ws(j);
			if (j->p >= j->end || *j->p != '"')
				return wrong_kind(j, "dtype of \"%s\" is not a string", name);
			if (!short_plain_string(j, &v, &vn) && (r = scan_string(j, &v, &vn, &esc)) < 0)
				return r;
			int d = st_dtype_from_name((const char *)v, vn);
			if (d < 0 || esc)
				return sc_error(j->e, SC_EDTYPE, "tensor \"%s\" has unknown dtype \"%.*s\"",
						name, (int)(vn > 32 ? 32 : vn), (const char *)v);
			t->dtype = (uint8_t)d;
			have |= HAVE_DTYPE;
		} else if (!esc && n == 5 && memcmp(s, "shape", 5) == 0) {
			if ((r = parse_shape(j, b, t)) < 0)
				return r;
			have |= HAVE_SHAPE;
		} else if (!esc && n == 12 && memcmp(s, "data_offsets", 12) == 0) {
			if ((r = parse_offsets(j, t)) < 0)
				return r;
			have |= HAVE_OFFSETS;
		} else if ((r = skip_value(j, 1)) < 0)
			return r;
		if ((r = next_member(j, '}')) < 0)
			return r;
	}
	if (have != (HAVE_DTYPE | HAVE_SHAPE | HAVE_OFFSETS))
		return sc_error(j->e, SC_ENOTOBJ, "tensor \"%s\" lacks %s", name,
				!(have & HAVE_DTYPE) ? "dtype" : !(have & HAVE_SHAPE) ? "shape" : "data_offsets");
	h->n_tensors++;
	return 0;
}

static int parse_json(struct jp *j, struct builder *b)
{
	struct st_header *h = b->h;
	const uint8_t *s;
	size_t n, out;
	int esc, r;
	skip_ws(j);
	if (j->p >= j->end || *j->p != '{') {
		if (j->p < j->end && (*j->p == '[' || *j->p == '"' || *j->p == 't' || *j->p == 'f' ||
				      *j->p == 'n' || *j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
			return sc_error(j->e, SC_ENOTOBJ, "header JSON is not an object");
		return sc_error(j->e, SC_ENOTJSON, "header is not JSON");
	}
	if ((r = begin(j, '{', '}')) < 0)
		return r;
	while (r > 0) {
		if ((r = scan_string(j, &s, &n, &esc)) < 0)
			return r;
		char *name = h->names + b->names_len;
		if ((r = decode_string(j, s, n, esc, name, &out)) < 0 || (r = expect(j, ':')) < 0)
			return r;
		if (out == 12 && memcmp(name, "__metadata__", 12) == 0) {
			if ((r = parse_metadata(j, b)) < 0)
				return r;
		} else {
			b->names_len += out + 1;
			if ((r = parse_tensor(j, b, name, out)) < 0)
				return r;
		}
		if ((r = next_member(j, '}')) < 0)
			return r;
	}
	skip_ws(j);
	if (j->p != j->end)
		return sc_error(j->e, SC_ENOTJSON, "trailing bytes after the header JSON");
	return 0;
}

static int cmp_offsets(const void *a, const void *b)
{
	const struct st_tensor *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

uint64_t st_tensor_elements(const struct st_header *h, const struct st_tensor *t)
{
	uint64_t n = 1;
	for (unsigned i = 0; i < t->ndim; i++)
		n *= h->dims[t->dims + i];
	return n;
}

static int check_layout(struct st_header *h, sc_err *e)
{
	size_t i;
	for (i = 1; i < h->n_tensors; i++)
		if (cmp_offsets(&h->tensors[i - 1], &h->tensors[i]) > 0)
			break;
	if (i < h->n_tensors)
		qsort(h->tensors, h->n_tensors, sizeof *h->tensors, cmp_offsets);
	uint64_t expected = 0;
	for (i = 0; i < h->n_tensors; i++) {
		const struct st_tensor *t = &h->tensors[i];
		const char *name = st_tensor_name(h, t);
		if (t->end < t->begin)
			return sc_error(e, SC_EOFFSETS, "tensor \"%s\" ends before it begins", name);
		if (t->begin != expected)
			return sc_error(e, SC_EOFFSETS, "tensor \"%s\" begins at %llu, expected %llu (%s)", name,
					(unsigned long long)t->begin, (unsigned long long)expected,
					t->begin > expected ? "a hole" : "an overlap");
		/* elements x bits must not overflow before the comparison */
		uint64_t elems = 1, bits;
		for (unsigned k = 0; k < t->ndim; k++)
			if (__builtin_mul_overflow(elems, h->dims[t->dims + k], &elems))
				return sc_error(e, SC_ESIZE, "tensor \"%s\" shape overflows", name);
		if (__builtin_mul_overflow(elems, (uint64_t)st_dtype_bits(t->dtype), &bits))
			return sc_error(e, SC_ESIZE, "tensor \"%s\" shape overflows", name);
		if (bits % 8)
			return sc_error(e, SC_ESIZE, "tensor \"%s\": %llu elements of %s are not whole bytes",
					name, (unsigned long long)elems, st_dtype_name(t->dtype));
		if (bits / 8 != t->end - t->begin)
			return sc_error(e, SC_ESIZE, "tensor \"%s\": shape and %s need %llu bytes, offsets give %llu",
					name, st_dtype_name(t->dtype), (unsigned long long)(bits / 8),
					(unsigned long long)(t->end - t->begin));
		expected = t->end;
	}
	h->data_len = expected;
	return 0;
}

int st_prefix_len(const uint8_t *buf, size_t len, uint64_t file_size, uint64_t *ret, sc_err *e)
{
	if (len < 8 || file_size < 8)
		return sc_error(e, SC_ESHORT, "file is %llu bytes, shorter than the 8-byte header length",
				(unsigned long long)(file_size < len ? file_size : len));
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = (n << 8) | buf[i];
	if (n > ST_MAX_HEADER)
		return sc_error(e, SC_ETOOBIG, "header length %llu is over the limit of %llu",
				(unsigned long long)n, ST_MAX_HEADER);
	if (8 + n > file_size)
		return sc_error(e, SC_EPASTEOF, "header length %llu reaches past the end of the %llu-byte file",
				(unsigned long long)n, (unsigned long long)file_size);
	*ret = 8 + n;
	return 0;
}

void st_header_free(struct st_header *h)
{
	if (!h)
		return;
	free(h->tensors);
	free(h->dims);
	free(h->names);
	free(h->meta);
	memset(h, 0, sizeof *h);
}

int st_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct st_header *ret, sc_err *e)
{
	uint64_t prefix;
	int r = st_prefix_len(buf, len, file_size, &prefix, e);
	if (r < 0)
		return r;
	if (len < prefix)
		return sc_error(e, SC_ETRUNC, "only %zu of the %llu header bytes were read", len,
				(unsigned long long)prefix);
	struct st_header h = { .header_len = prefix - 8 };
	struct builder b = { .h = &h };
	/* Decoded strings are never longer than their JSON form, so the header
	 * length bounds both string pools. */
	h.names = malloc(h.header_len + 1);
	h.meta = malloc(h.header_len + 1);
	if (!h.names || !h.meta) {
		st_header_free(&h);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	struct jp j = { .start = buf + 8, .p = buf + 8, .end = buf + prefix, .e = e };
	r = parse_json(&j, &b);
	if (r >= 0)
		r = check_layout(&h, e);
	if (r < 0) {
		st_header_free(&h);
		return r;
	}
	*ret = h;
	return 0;
}

void st_index_free(struct st_index *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_shards; i++)
		free(x->shards[i]);
	free(x->shards);
	memset(x, 0, sizeof *x);
}

static int index_add_shard(struct st_index *x, size_t *cap, const char *s, size_t n, sc_err *e)
{
	/* weight_map lists each shard many times, mostly in runs: check the
	 * newest first */
	for (size_t i = x->n_shards; i-- > 0;)
		if (strlen(x->shards[i]) == n && memcmp(x->shards[i], s, n) == 0)
			return 0;
	if (sc_grow(&x->shards, cap, x->n_shards + 1, sizeof *x->shards) < 0 ||
	    !(x->shards[x->n_shards] = strndup(s, n)))
		return sc_error(e, -ENOMEM, "out of memory");
	x->n_shards++;
	return 0;
}

static int index_object(struct jp *j, struct st_index *x, size_t *cap, int kind)
{
	const uint8_t *s;
	size_t n;
	int esc, r;
	skip_ws(j);
	if (j->p >= j->end || *j->p != '{')
		return wrong_kind(j, "%s is not an object", kind ? "weight_map" : "metadata");
	if ((r = begin(j, '{', '}')) <= 0)
		return r;
	do {
		if ((r = scan_string(j, &s, &n, &esc)) < 0 || (r = expect(j, ':')) < 0)
			return r;
		if (kind == 1) {
			const uint8_t *v;
			size_t vn;
			char tmp[4096];
			skip_ws(j);
			if (j->p >= j->end || *j->p != '"')
				return wrong_kind(j, "weight_map value is not a file name");
			if ((r = scan_string(j, &v, &vn, &esc)) < 0)
				return r;
			x->n_entries++;
			/* weight_map names the same shard in long runs */
			if (!esc && x->n_shards && strlen(x->shards[x->n_shards - 1]) == vn &&
			    memcmp(x->shards[x->n_shards - 1], v, vn) == 0)
				continue;
			if (vn >= sizeof tmp)
				return sc_error(j->e, SC_ENOTOBJ, "weight_map file name too long");
			if ((r = decode_string(j, v, vn, esc, tmp, &vn)) < 0 ||
			    (r = index_add_shard(x, cap, tmp, vn, j->e)) < 0)
				return r;
		} else if (!esc && n == 10 && memcmp(s, "total_size", 10) == 0) {
			skip_ws(j);
			const uint8_t *start = j->p;
			if (parse_u64(j, &x->total_size) < 0) {
				/* some writers store total_size as a float */
				j->p = start;
				if ((r = skip_value(j, 1)) < 0)
					return r;
			} else
				x->has_total_size = 1;
		} else if ((r = skip_value(j, 1)) < 0)
			return r;
	} while ((r = next_member(j, '}')) > 0);
	return r;
}

int st_index_parse(const uint8_t *buf, size_t len, struct st_index *ret, sc_err *e)
{
	struct st_index x = { 0 };
	size_t cap = 0;
	const uint8_t *s;
	size_t n;
	int esc, r = 0, have_map = 0;
	struct jp j = { .start = buf, .p = buf, .end = buf + len, .e = e };
	skip_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return sc_error(e, j.p < j.end && *j.p == '[' ? SC_ENOTOBJ : SC_ENOTJSON, "index is not a JSON object");
	if ((r = begin(&j, '{', '}')) < 0)
		goto fail;
	while (r > 0) {
		if ((r = scan_string(&j, &s, &n, &esc)) < 0 || (r = expect(&j, ':')) < 0)
			goto fail;
		if (!esc && n == 10 && memcmp(s, "weight_map", 10) == 0) {
			if ((r = index_object(&j, &x, &cap, 1)) < 0)
				goto fail;
			have_map = 1;
		} else if (!esc && n == 8 && memcmp(s, "metadata", 8) == 0) {
			skip_ws(&j);
			if (j.p < j.end && *j.p == 'n')
				r = skip_literal(&j, "null");
			else
				r = index_object(&j, &x, &cap, 0);
			if (r < 0)
				goto fail;
		} else if ((r = skip_value(&j, 1)) < 0)
			goto fail;
		if ((r = next_member(&j, '}')) < 0)
			goto fail;
	}
	skip_ws(&j);
	if (j.p != j.end) {
		r = sc_error(e, SC_ENOTJSON, "trailing bytes after the index JSON");
		goto fail;
	}
	if (!have_map) {
		r = sc_error(e, SC_ENOTOBJ, "index has no weight_map");
		goto fail;
	}
	*ret = x;
	return 0;
fail:
	st_index_free(&x);
	return r;
}

int st_read_fd(int fd, uint64_t size, struct st_header *ret, uint64_t *bytes_read, sc_err *e)
{
	uint8_t head[8];
	uint64_t prefix;
	int r;
	*bytes_read = 0;
	if (size < 8)
		return sc_error(e, SC_ESHORT, "file is %llu bytes, shorter than a safetensors header",
				(unsigned long long)size);
	if ((r = sc_pread_full(fd, head, 8, 0)) < 0)
		return sc_error(e, r, "cannot read: %s", strerror(-r));
	if ((r = st_prefix_len(head, 8, size, &prefix, e)) < 0)
		return r;
	_cleanup_free_ uint8_t *buf = malloc(prefix);
	if (!buf)
		return sc_error(e, -ENOMEM, "out of memory");
	memcpy(buf, head, 8);
	if ((r = sc_pread_full(fd, buf + 8, prefix - 8, 8)) < 0)
		return sc_error(e, r, "cannot read the header: %s", strerror(-r));
	*bytes_read = prefix;
	return st_parse(buf, prefix, size, ret, e);
}
