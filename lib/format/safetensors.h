/* safetensors header reader. The header is parsed by a purpose-built
 * streaming JSON reader: it checks the whole grammar and the reference
 * reader's rules but builds no document tree, so a 9 MB MoE header costs
 * milliseconds, not half a second. */
#ifndef SC_SAFETENSORS_H
#define SC_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define ST_MAX_HEADER 100000000ULL

struct st_tensor {
	uint32_t name;  /* offset of the NUL-terminated name in st_header.names */
	uint32_t name_len;
	uint32_t dims;  /* index of the first dimension in st_header.dims */
	uint8_t ndim;
	uint8_t dtype;  /* enum st_dtype */
	uint64_t begin, end;  /* data_offsets, relative to the data section */
};

struct st_header {
	uint64_t header_len;  /* n: the JSON's length */
	uint64_t data_len;    /* end of the last tensor */
	size_t n_tensors;
	struct st_tensor *tensors;  /* in data order */
	uint64_t *dims;
	char *names;
	size_t n_meta;
	char *meta;  /* n_meta pairs "key\0value\0" */
};

/* Bytes the file must have for sc_st_parse: 8 + header length. Reads the length
 * from the first 8 bytes (len >= 8); <0 on error. */
int sc_st_prefix_len(const uint8_t *buf, size_t len, uint64_t file_size, uint64_t *ret, sc_err *e);

/* Parse buf (the file's first len bytes, at least the prefix) of a file of
 * file_size bytes. On success ret describes the header; the caller compares
 * 8 + header_len + data_len with the file size. */
int sc_st_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct st_header *ret, sc_err *e);

void sc_st_header_done(struct st_header *h);

/* Read 8 bytes and then exactly the header of an open file of size bytes,
 * and parse it; *bytes_read tells how many bytes were read. I/O errors are
 * -errno, format errors the parser's. */
int sc_st_read_fd(int fd, uint64_t size, struct st_header *ret, uint64_t *bytes_read, sc_err *e);

static inline const char *st_tensor_name(const struct st_header *h, const struct st_tensor *t)
{
	return h->names + t->name;
}

/* Elements of a tensor (product of its shape); never overflows for a parsed
 * header. */
uint64_t sc_st_tensor_elements(const struct st_header *h, const struct st_tensor *t);



/* model.safetensors.index.json: the distinct shard files of weight_map (in
 * first-seen order) and metadata.total_size. Parsed with the same streaming
 * reader, since MoE indexes hold 100,000+ entries. */
struct st_index {
	char **shards;
	size_t n_shards;
	uint64_t n_entries;
	uint64_t total_size;
	int has_total_size;
};

int sc_st_index_parse(const uint8_t *buf, size_t len, struct st_index *ret, sc_err *e);
void sc_st_index_done(struct st_index *x);
#endif
