/* GGUF reader (ggml docs/gguf.md): metadata key-values of every type,
 * tensor infos, alignment and the expected end of the data. */
#ifndef SC_GGUF_H
#define SC_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

enum gguf_vtype {
	GGUF_U8, GGUF_I8, GGUF_U16, GGUF_I16, GGUF_U32, GGUF_I32, GGUF_F32,
	GGUF_BOOL, GGUF_STRING, GGUF_ARRAY, GGUF_U64, GGUF_I64, GGUF_F64,
	GGUF_VTYPE_COUNT
};

struct gguf_kv {
	uint32_t key;       /* offset in pool */
	uint32_t type;      /* enum gguf_vtype */
	uint32_t arr_type;  /* element type of an array */
	uint64_t count;     /* elements of an array */
	union {
		uint64_t u;
		int64_t i;
		double f;
		uint32_t str;  /* offset in pool */
	} v;
};

#define GGUF_MAX_DIMS 4

struct gguf_tensor {
	uint32_t name;  /* offset in pool */
	uint32_t n_dims;
	uint32_t type;  /* ggml type */
	uint64_t dims[GGUF_MAX_DIMS];
	uint64_t offset;  /* relative to the data section */
	uint64_t bytes;
};

struct gguf_file {
	uint32_t version;
	uint64_t n_kv, n_tensors;
	struct gguf_kv *kv;
	struct gguf_tensor *tensors;
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t alignment;
	uint64_t header_end;  /* bytes of metadata and tensor infos */
	uint64_t data_start;
	uint64_t data_end;    /* where the file must end at least */
};

/* Parse the first len bytes of a file of file_size bytes. Returns SC_ETRUNC
 * when len < file_size and the header needs more bytes: read more, call
 * again. */
int sc_gguf_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct gguf_file *ret, sc_err *e);
void sc_gguf_file_done(struct gguf_file *g);

/* Read and parse the header of an open file of size bytes, reading only
 * header bytes (the buffer grows until the parser has what it needs);
 * *bytes_read tells how many. */
int sc_gguf_read_fd(int fd, uint64_t size, struct gguf_file *ret, uint64_t *bytes_read, sc_err *e);

const struct gguf_kv *sc_gguf_find(const struct gguf_file *g, const char *key);
/* Scalar integer value of key; false when absent or not an integer. */
bool sc_gguf_get_uint(const struct gguf_file *g, const char *key, uint64_t *ret);
/* String value of key, or NULL. */
const char *sc_gguf_get_str(const struct gguf_file *g, const char *key);

static inline const char *gguf_str(const struct gguf_file *g, uint32_t off) { return g->pool + off; }

uint64_t sc_gguf_tensor_elements(const struct gguf_tensor *t);

#endif
