#include "gguf.h"
#include "dtype.h"
#include "../base/util.h"

#define GGUF_MAX_HEADER (512u << 20)

struct cur {
	const uint8_t *buf;
	size_t len, pos;
	uint64_t file_size;
	sc_err *e;
	/* asks the reader for at least `want` bytes; NULL: parse buf alone */
	int (*more)(void *ud, size_t want, const uint8_t **buf, size_t *len);
	void *ud;
};

/* Need n more bytes: past the file is an error for good; past the buffer,
 * the reader is asked for more, and without one the caller must read more
 * and parse again. */
static int need(struct cur *c, uint64_t n, const char *what)
{
	if (n > c->file_size - c->pos)
		return sc_error(c->e, SC_ELENGTH, "%s of %llu bytes at offset %zu runs past the end of the file",
				what, (unsigned long long)n, c->pos);
	if (n > c->len - c->pos) {
		if (c->more) {
			int r = c->more(c->ud, c->pos + (size_t)n, &c->buf, &c->len);
			if (r < 0)
				return sc_error(c->e, r, "cannot read the header: %s", sc_strerror(r));
			if (n <= c->len - c->pos)
				return 0;
		}
		return sc_error(c->e, SC_ETRUNC, "header continues past the %zu bytes read", c->len);
	}
	return 0;
}

/* A u64 length, on the fast path when the buffer holds it. */
static inline int rd_len(struct cur *c, uint64_t *n, const char *what)
{
	if (c->len - c->pos < 8) {
		int r = need(c, 8, what);
		if (r < 0)
			return r;
	}
	memcpy(n, c->buf + c->pos, 8);
	c->pos += 8;
	return 0;
}

static int rd(struct cur *c, void *out, size_t n, const char *what)
{
	int r = need(c, n, what);
	if (r < 0)
		return r;
	memcpy(out, c->buf + c->pos, n);  /* GGUF is little-endian like every host we build for */
	c->pos += n;
	return 0;
}

static int pool_add(struct gguf_file *g, const uint8_t *s, size_t n, uint32_t *off, sc_err *e)
{
	if (g->pool_len + n + 1 > UINT32_MAX)
		return sc_error(e, SC_ETOOBIG, "GGUF names over 4 GiB");
	if (sc_grow(&g->pool, &g->pool_cap, g->pool_len + n + 1, 1) < 0)
		return sc_error(e, -ENOMEM, "out of memory");
	memcpy(g->pool + g->pool_len, s, n);
	g->pool[g->pool_len + n] = '\0';
	*off = (uint32_t)g->pool_len;
	g->pool_len += n + 1;
	return 0;
}

static int rd_string(struct cur *c, struct gguf_file *g, uint32_t *off, const char *what)
{
	uint64_t n;
	int r = rd_len(c, &n, what);
	if (r < 0)
		return r;
	if (n > c->len - c->pos && (r = need(c, n, what)) < 0)
		return r;
	if (off && (r = pool_add(g, c->buf + c->pos, (size_t)n, off, c->e)) < 0)
		return r;
	c->pos += (size_t)n;
	return 0;
}

static const uint8_t vsize[GGUF_VTYPE_COUNT] = {
	[GGUF_U8] = 1, [GGUF_I8] = 1, [GGUF_U16] = 2, [GGUF_I16] = 2, [GGUF_U32] = 4,
	[GGUF_I32] = 4, [GGUF_F32] = 4, [GGUF_BOOL] = 1, [GGUF_U64] = 8, [GGUF_I64] = 8,
	[GGUF_F64] = 8,
};

static int skip_array(struct cur *c, uint32_t type, uint64_t count, int depth)
{
	int r;
	if (depth > 4)
		return sc_error(c->e, SC_ENOTOBJ, "GGUF arrays nested too deep");
	if (type >= GGUF_VTYPE_COUNT)
		return sc_error(c->e, SC_EDTYPE, "unknown GGUF value type %u in an array", type);
	if (type == GGUF_STRING || type == GGUF_ARRAY) {
		/* each element is at least an 8-byte length (or 12-byte array head) */
		uint64_t min = type == GGUF_STRING ? 8 : 12;
		if (count > (c->file_size - c->pos) / min)
			return sc_error(c->e, SC_ELENGTH, "array of %llu elements cannot fit in the file",
					(unsigned long long)count);
		for (uint64_t i = 0; i < count; i++) {
			if (type == GGUF_STRING) {
				if ((r = rd_string(c, NULL, NULL, "array string")) < 0)
					return r;
			} else {
				uint32_t t;
				uint64_t n;
				if ((r = rd(c, &t, 4, "array type")) < 0 || (r = rd(c, &n, 8, "array count")) < 0 ||
				    (r = skip_array(c, t, n, depth + 1)) < 0)
					return r;
			}
		}
		return 0;
	}
	if (count > (c->file_size - c->pos) / vsize[type])
		return sc_error(c->e, SC_ELENGTH, "array of %llu elements cannot fit in the file",
				(unsigned long long)count);
	if ((r = need(c, count * vsize[type], "array")) < 0)
		return r;
	c->pos += (size_t)(count * vsize[type]);
	return 0;
}

static int rd_value(struct cur *c, struct gguf_file *g, struct gguf_kv *kv)
{
	uint8_t b[8];
	int r;
	switch (kv->type) {
	case GGUF_STRING:
		return rd_string(c, g, &kv->v.str, "string value");
	case GGUF_ARRAY:
		if ((r = rd(c, &kv->arr_type, 4, "array type")) < 0 || (r = rd(c, &kv->count, 8, "array count")) < 0)
			return r;
		return skip_array(c, kv->arr_type, kv->count, 1);
	case GGUF_U8: case GGUF_BOOL:
		if ((r = rd(c, b, 1, "value")) < 0) return r;
		kv->v.u = b[0];
		return 0;
	case GGUF_I8:
		if ((r = rd(c, b, 1, "value")) < 0) return r;
		kv->v.i = (int8_t)b[0];
		return 0;
	case GGUF_U16: { uint16_t x; if ((r = rd(c, &x, 2, "value")) < 0) return r; kv->v.u = x; return 0; }
	case GGUF_I16: { int16_t x; if ((r = rd(c, &x, 2, "value")) < 0) return r; kv->v.i = x; return 0; }
	case GGUF_U32: { uint32_t x; if ((r = rd(c, &x, 4, "value")) < 0) return r; kv->v.u = x; return 0; }
	case GGUF_I32: { int32_t x; if ((r = rd(c, &x, 4, "value")) < 0) return r; kv->v.i = x; return 0; }
	case GGUF_F32: { float x; if ((r = rd(c, &x, 4, "value")) < 0) return r; kv->v.f = x; return 0; }
	case GGUF_U64: return rd(c, &kv->v.u, 8, "value");
	case GGUF_I64: return rd(c, &kv->v.i, 8, "value");
	case GGUF_F64: return rd(c, &kv->v.f, 8, "value");
	default:
		return sc_error(c->e, SC_EDTYPE, "unknown GGUF value type %u", kv->type);
	}
}

uint64_t sc_gguf_tensor_elements(const struct gguf_tensor *t)
{
	/* rd_tensor refused every shape whose product overflows */
	uint64_t n = 1;
	for (uint32_t i = 0; i < t->n_dims; i++)
		n *= t->dims[i];
	return n;
}

static int rd_tensor(struct cur *c, struct gguf_file *g, struct gguf_tensor *t)
{
	int r;
	if ((r = rd_string(c, g, &t->name, "tensor name")) < 0 || (r = rd(c, &t->n_dims, 4, "tensor dims")) < 0)
		return r;
	const char *name = gguf_str(g, t->name);
	if (t->n_dims > GGUF_MAX_DIMS)
		return sc_error(c->e, SC_ENOTOBJ, "tensor \"%s\" has %u dimensions, at most %d allowed",
				name, t->n_dims, GGUF_MAX_DIMS);
	for (uint32_t i = 0; i < t->n_dims; i++)
		if ((r = rd(c, &t->dims[i], 8, "tensor dim")) < 0)
			return r;
	if ((r = rd(c, &t->type, 4, "tensor type")) < 0 || (r = rd(c, &t->offset, 8, "tensor offset")) < 0)
		return r;
	uint32_t bbytes, bvals;
	if (sc_ggml_type_block(t->type, &bbytes, &bvals) < 0)
		return sc_error(c->e, SC_EDTYPE, "tensor \"%s\" has unknown ggml type %u", name, t->type);
	uint64_t rows = 1, ne0 = t->n_dims ? t->dims[0] : 1;
	if (ne0 % bvals)
		return sc_error(c->e, SC_ESIZE, "tensor \"%s\": %llu values are not whole %s blocks of %u",
				name, (unsigned long long)ne0, sc_ggml_type_name(t->type), bvals);
	uint64_t elems = ne0, row_bytes;
	for (uint32_t i = 1; i < t->n_dims; i++)
		if (__builtin_mul_overflow(rows, t->dims[i], &rows) || __builtin_mul_overflow(elems, t->dims[i], &elems))
			return sc_error(c->e, SC_ESIZE, "tensor \"%s\" shape overflows", name);
	/* [2^62, 1] of F32 is 2^64 bytes: wrapped, it counted 0 and passed */
	if (__builtin_mul_overflow(ne0 / bvals, (uint64_t)bbytes, &row_bytes) ||
	    __builtin_mul_overflow(row_bytes, rows, &t->bytes))
		return sc_error(c->e, SC_ESIZE, "tensor \"%s\" size overflows", name);
	if (g->alignment && t->offset % g->alignment)
		return sc_error(c->e, SC_EOFFSETS, "tensor \"%s\" offset %llu is not a multiple of the alignment %u",
				name, (unsigned long long)t->offset, g->alignment);
	return 0;
}

const struct gguf_kv *sc_gguf_find(const struct gguf_file *g, const char *key)
{
	for (uint64_t i = 0; i < g->n_kv; i++)
		if (streq(gguf_str(g, g->kv[i].key), key))
			return &g->kv[i];
	return NULL;
}

bool sc_gguf_get_uint(const struct gguf_file *g, const char *key, uint64_t *ret)
{
	const struct gguf_kv *kv = sc_gguf_find(g, key);
	if (!kv)
		return false;
	switch (kv->type) {
	case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64: case GGUF_BOOL:
		*ret = kv->v.u;
		return true;
	case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64:
		if (kv->v.i < 0)
			return false;
		*ret = (uint64_t)kv->v.i;
		return true;
	default:
		return false;
	}
}

const char *sc_gguf_get_str(const struct gguf_file *g, const char *key)
{
	const struct gguf_kv *kv = sc_gguf_find(g, key);
	return kv && kv->type == GGUF_STRING ? gguf_str(g, kv->v.str) : NULL;
}

void sc_gguf_file_done(struct gguf_file *g)
{
	if (!g)
		return;
	free(g->kv);
	free(g->tensors);
	free(g->pool);
	memset(g, 0, sizeof *g);
}

static int parse(struct cur *c, struct gguf_file *g)
{
	uint8_t magic[4];
	int r;
	if (c->file_size < 24 || c->len < 4)
		return sc_error(c->e, SC_ESHORT, "file is too short for a GGUF header");
	if ((r = rd(c, magic, 4, "magic")) < 0)
		return r;
	if (memcmp(magic, "GGUF", 4) != 0)
		return sc_error(c->e, SC_EMAGIC, "not a GGUF file (bad magic)");
	if ((r = rd(c, &g->version, 4, "version")) < 0)
		return r;
	if (g->version != 2 && g->version != 3)
		return sc_error(c->e, SC_EVERSION, "GGUF version %u is not supported (2 and 3 are)%s", g->version,
				(g->version & 0xffff) == 0 ? "; the file may be big-endian" : "");
	if ((r = rd(c, &g->n_tensors, 8, "tensor count")) < 0 || (r = rd(c, &g->n_kv, 8, "kv count")) < 0)
		return r;
	/* a kv is at least key length + type + one byte; a tensor info at
	 * least name length + n_dims + type + offset */
	if (g->n_kv > (c->file_size - c->pos) / 13)
		return sc_error(c->e, SC_ELENGTH, "%llu metadata entries cannot fit in the file",
				(unsigned long long)g->n_kv);
	if (g->n_tensors > (c->file_size - c->pos) / 24)
		return sc_error(c->e, SC_ELENGTH, "%llu tensors cannot fit in the file",
				(unsigned long long)g->n_tensors);
	if (!(g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv)) ||
	    !(g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors)))
		return sc_error(c->e, -ENOMEM, "out of memory");
	g->alignment = 32;
	for (uint64_t i = 0; i < g->n_kv; i++) {
		struct gguf_kv *kv = &g->kv[i];
		if ((r = rd_string(c, g, &kv->key, "key")) < 0 || (r = rd(c, &kv->type, 4, "value type")) < 0 ||
		    (r = rd_value(c, g, kv)) < 0)
			return r;
		if (streq(gguf_str(g, kv->key), "general.alignment")) {
			if (kv->type != GGUF_U32 || kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)))
				return sc_error(c->e, SC_ENOTOBJ, "general.alignment must be a power of two (u32)");
			g->alignment = (uint32_t)kv->v.u;
		}
	}
	uint64_t max_end = 0;
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		struct gguf_tensor *t = &g->tensors[i];
		if ((r = rd_tensor(c, g, t)) < 0)
			return r;
		if (t->offset > UINT64_MAX - t->bytes)
			return sc_error(c->e, SC_ELENGTH, "tensor offset overflows");
		if (t->offset + t->bytes > max_end)
			max_end = t->offset + t->bytes;
	}
	g->header_end = c->pos;
	g->data_start = (c->pos + g->alignment - 1) / g->alignment * g->alignment;
	if (max_end > UINT64_MAX - g->data_start)
		return sc_error(c->e, SC_ELENGTH, "tensor data end overflows");
	g->data_end = g->data_start + max_end;
	return 0;
}

static int parse_cur(struct cur *c, struct gguf_file *ret)
{
	struct gguf_file g = { 0 };
	int r = parse(c, &g);
	if (r < 0) {
		sc_gguf_file_done(&g);
		return r;
	}
	*ret = g;
	return 0;
}

int sc_gguf_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct gguf_file *ret, sc_err *e)
{
	*ret = (struct gguf_file){ 0 };
	struct cur c = { .buf = buf, .len = len < file_size ? len : (size_t)file_size, .file_size = file_size, .e = e };
	return parse_cur(&c, ret);
}

/* The reader behind sc_gguf_read_fd: reads what the parser asks for, plus a
 * little read-ahead so a vocabulary of 100,000 strings costs a handful of
 * reads, never more than READ_AHEAD past the end of the header. */
#define READ_AHEAD (128u << 10)

struct fd_reader {
	int fd;
	uint64_t size;
	uint8_t *buf;
	size_t len;
};

static int fd_more(void *ud, size_t want, const uint8_t **buf, size_t *len)
{
	struct fd_reader *rd = ud;
	if (want > GGUF_MAX_HEADER)
		return SC_ETOOBIG;
	uint64_t to = (uint64_t)want + READ_AHEAD;
	if (to > rd->size)
		to = rd->size;
	if (to <= rd->len)
		return 0;
	uint8_t *nb = realloc(rd->buf, (size_t)to);
	if (!nb)
		return -ENOMEM;
	rd->buf = nb;
	int r = sc_pread_full(rd->fd, nb + rd->len, (size_t)to - rd->len, rd->len);
	if (r < 0)
		return r;
	rd->len = (size_t)to;
	*buf = rd->buf;
	*len = rd->len;
	return 0;
}

int sc_gguf_read_fd(int fd, uint64_t size, struct gguf_file *ret, uint64_t *bytes_read, sc_err *e)
{
	*ret = (struct gguf_file){ 0 };
	struct fd_reader rd = { .fd = fd, .size = size };
	struct cur c = { .file_size = size, .e = e, .more = fd_more, .ud = &rd };
	int r = fd_more(&rd, 24, &c.buf, &c.len);
	if (r < 0) {
		free(rd.buf);
		return sc_error(e, r, "cannot read: %s", sc_strerror(r));
	}
	r = parse_cur(&c, ret);
	if (bytes_read)
		*bytes_read = rd.len;
	free(rd.buf);
	return r;
}
