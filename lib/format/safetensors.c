#include "safetensors.h"
#include "dtype.h"
#include "jscan.h"
#include "../base/util.h"

struct builder {
	struct st_header *h;
	size_t cap_tensors, cap_dims, n_dims, names_len, meta_len;
};

static int parse_metadata(struct jp *j, struct builder *b)
{
	int r, esc;
	const uint8_t *s;
	size_t n, out;
	js_skip_ws(j);
	if (j->p < j->end && *j->p == 'n')
		return sc_js_skip_literal(j, "null");
	if (j->p >= j->end || *j->p != '{')
		return sc_js_wrong_kind(j, "__metadata__ is not an object");
	if ((r = sc_js_begin(j, '{', '}')) <= 0)
		return r;
	do {
		if ((r = sc_js_scan_string(j, &s, &n, &esc)) < 0 ||
		    (r = sc_js_decode_string(j, s, n, esc, b->h->meta + b->meta_len, &out)) < 0)
			return r;
		b->meta_len += out + 1;
		if ((r = js_expect(j, ':')) < 0)
			return r;
		js_skip_ws(j);
		if (j->p >= j->end || *j->p != '"')
			return sc_js_wrong_kind(j, "__metadata__ value is not a string");
		if ((r = sc_js_scan_string(j, &s, &n, &esc)) < 0 ||
		    (r = sc_js_decode_string(j, s, n, esc, b->h->meta + b->meta_len, &out)) < 0)
			return r;
		b->meta_len += out + 1;
		b->h->n_meta++;
	} while ((r = js_next_member(j, '}')) > 0);
	return r;
}

static int parse_shape(struct jp *j, struct builder *b, struct st_tensor *t)
{
	struct st_header *h = b->h;
	int r;
	js_skip_ws(j);
	if (j->p >= j->end || *j->p != '[')
		return sc_js_wrong_kind(j, "shape of \"%s\" is not an array", h->names + t->name);
	t->dims = (uint32_t)b->n_dims;
	t->ndim = 0;
	if ((r = sc_js_begin(j, '[', ']')) <= 0)
		return r;
	do {
		uint64_t v;
		if ((r = sc_js_parse_u64(j, &v)) < 0)
			return r;
		if (t->ndim == 255)
			return sc_error(j->e, SC_ENOTOBJ, "shape with more than 255 dimensions");
		if (sc_grow(&h->dims, &b->cap_dims, b->n_dims + 1, sizeof *h->dims) < 0)
			return sc_error(j->e, -ENOMEM, "out of memory");
		h->dims[b->n_dims++] = v;
		t->ndim++;
	} while ((r = js_next_member(j, ']')) > 0);
	return r;
}

static int parse_offsets(struct jp *j, struct st_tensor *t)
{
	int r;
	js_skip_ws(j);
	if (j->p >= j->end || *j->p != '[')
		return sc_js_wrong_kind(j, "data_offsets is not an array");
	j->p++;
	if ((r = sc_js_parse_u64(j, &t->begin)) < 0 || (r = js_expect(j, ',')) < 0 ||
	    (r = sc_js_parse_u64(j, &t->end)) < 0)
		return r == SC_ENOTJSON ? sc_error(j->e, SC_ENOTOBJ, "data_offsets must hold two integers") : r;
	js_skip_ws(j);
	if (j->p < j->end && *j->p != ']')
		return sc_error(j->e, SC_ENOTOBJ, "data_offsets must hold two integers");
	return js_expect(j, ']');
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
	js_skip_ws(j);
	if (j->p >= j->end || *j->p != '{')
		return sc_js_wrong_kind(j, "tensor \"%s\" is not an object", name);
	if ((r = sc_js_begin(j, '{', '}')) < 0)
		return r;
	while (r > 0) {
		/* every writer spells the three keys the same: recognized here
		 * without the general scanner, which stays for anything else */
		js_skip_ws(j);
		if (js_plain_string(j, "dtype", 5)) {
			s = (const uint8_t *)"dtype", n = 5, esc = 0;
		} else if (js_plain_string(j, "shape", 5)) {
			s = (const uint8_t *)"shape", n = 5, esc = 0;
		} else if (js_plain_string(j, "data_offsets", 12)) {
			s = (const uint8_t *)"data_offsets", n = 12, esc = 0;
		} else if ((r = sc_js_scan_string(j, &s, &n, &esc)) < 0)
			return r;
		if ((r = js_expect(j, ':')) < 0)
			return r;
		if (!esc && n == 5 && memcmp(s, "dtype", 5) == 0) {
			const uint8_t *v;
			size_t vn;
			js_skip_ws(j);
			if (j->p >= j->end || *j->p != '"')
				return sc_js_wrong_kind(j, "dtype of \"%s\" is not a string", name);
			if (!js_short_plain_string(j, &v, &vn) && (r = sc_js_scan_string(j, &v, &vn, &esc)) < 0)
				return r;
			int d = sc_st_dtype_from_name((const char *)v, vn);
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
		} else if ((r = sc_js_skip_value(j, 1)) < 0)
			return r;
		if ((r = js_next_member(j, '}')) < 0)
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
	js_skip_ws(j);
	if (j->p >= j->end || *j->p != '{') {
		if (j->p < j->end && (*j->p == '[' || *j->p == '"' || *j->p == 't' || *j->p == 'f' ||
				      *j->p == 'n' || *j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
			return sc_error(j->e, SC_ENOTOBJ, "header JSON is not an object");
		return sc_error(j->e, SC_ENOTJSON, "header is not JSON");
	}
	if ((r = sc_js_begin(j, '{', '}')) < 0)
		return r;
	while (r > 0) {
		if ((r = sc_js_scan_string(j, &s, &n, &esc)) < 0)
			return r;
		char *name = h->names + b->names_len;
		if ((r = sc_js_decode_string(j, s, n, esc, name, &out)) < 0 || (r = js_expect(j, ':')) < 0)
			return r;
		if (out == 12 && memcmp(name, "__metadata__", 12) == 0) {
			if ((r = parse_metadata(j, b)) < 0)
				return r;
		} else {
			b->names_len += out + 1;
			if ((r = parse_tensor(j, b, name, out)) < 0)
				return r;
		}
		if ((r = js_next_member(j, '}')) < 0)
			return r;
	}
	js_skip_ws(j);
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

uint64_t sc_st_tensor_elements(const struct st_header *h, const struct st_tensor *t)
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
		if (__builtin_mul_overflow(elems, (uint64_t)sc_st_dtype_bits(t->dtype), &bits))
			return sc_error(e, SC_ESIZE, "tensor \"%s\" shape overflows", name);
		if (bits % 8)
			return sc_error(e, SC_ESIZE, "tensor \"%s\": %llu elements of %s are not whole bytes",
					name, (unsigned long long)elems, sc_st_dtype_name(t->dtype));
		if (bits / 8 != t->end - t->begin)
			return sc_error(e, SC_ESIZE, "tensor \"%s\": shape and %s need %llu bytes, offsets give %llu",
					name, sc_st_dtype_name(t->dtype), (unsigned long long)(bits / 8),
					(unsigned long long)(t->end - t->begin));
		expected = t->end;
	}
	h->data_len = expected;
	return 0;
}

int sc_st_prefix_len(const uint8_t *buf, size_t len, uint64_t file_size, uint64_t *ret, sc_err *e)
{
	*ret = 0;
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

void sc_st_header_done(struct st_header *h)
{
	if (!h)
		return;
	free(h->tensors);
	free(h->dims);
	free(h->names);
	free(h->meta);
	memset(h, 0, sizeof *h);
}

int sc_st_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct st_header *ret, sc_err *e)
{
	*ret = (struct st_header){ 0 };
	uint64_t prefix;
	int r = sc_st_prefix_len(buf, len, file_size, &prefix, e);
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
	/* real headers spend about 120 bytes a tensor and hold two or three
	 * dimensions each: sized once, the arrays are not copied while growing */
	if (!h.names || !h.meta || sc_grow(&h.tensors, &b.cap_tensors, h.header_len / 96 + 1, sizeof *h.tensors) < 0 ||
	    sc_grow(&h.dims, &b.cap_dims, h.header_len / 32 + 1, sizeof *h.dims) < 0) {
		sc_st_header_done(&h);
		return sc_error(e, -ENOMEM, "out of memory");
	}
	struct jp j = { .start = buf + 8, .p = buf + 8, .end = buf + prefix, .e = e };
	r = parse_json(&j, &b);
	if (r >= 0)
		r = check_layout(&h, e);
	if (r < 0) {
		sc_st_header_done(&h);
		return r;
	}
	*ret = h;
	return 0;
}

int sc_st_read_fd(int fd, uint64_t size, struct st_header *ret, uint64_t *bytes_read, sc_err *e)
{
	*ret = (struct st_header){ 0 };
	uint8_t head[8];
	uint64_t prefix;
	int r;
	*bytes_read = 0;
	if (size < 8)
		return sc_error(e, SC_ESHORT, "file is %llu bytes, shorter than a safetensors header",
				(unsigned long long)size);
	if ((r = sc_pread_full(fd, head, 8, 0)) < 0)
		return sc_error(e, r, "cannot read: %s", sc_strerror(r));
	if ((r = sc_st_prefix_len(head, 8, size, &prefix, e)) < 0)
		return r;
	uint8_t *buf = sc_big_alloc(prefix);
	if (!buf)
		return sc_error(e, -ENOMEM, "out of memory");
	memcpy(buf, head, 8);
	if ((r = sc_pread_full(fd, buf + 8, prefix - 8, 8)) < 0) {
		sc_big_free(buf, prefix);
		return sc_error(e, r, "cannot read the header: %s", sc_strerror(r));
	}
	*bytes_read = prefix;
	r = sc_st_parse(buf, prefix, size, ret, e);
	sc_big_free(buf, prefix);
	return r;
}
