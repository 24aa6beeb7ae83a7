/* SHA-256 and SHA-1 (git blob ids) with OpenSSL, computed while bytes are
 * written. libcrypto is loaded when first needed: linked, it costs every
 * start of sparkctl a millisecond. */
#ifndef SC_HASH_H
#define SC_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

enum sc_hash_kind { SC_SHA256, SC_SHA1 };

struct sc_hash;

int sc_hash_new(enum sc_hash_kind kind, struct sc_hash **ret, sc_err *e);
int sc_hash_update(struct sc_hash *h, const void *data, size_t len);
/* Lower-case hex into out (65 bytes for SHA-256, 41 for SHA-1). */
int sc_hash_final(struct sc_hash *h, char *out);
void sc_hash_free(struct sc_hash *h);

/* A git blob id starts with "blob <size>\0": a SHA-1 primed with it. */
int sc_hash_git_blob(uint64_t size, struct sc_hash **ret, sc_err *e);

/* The hash of a file's first len bytes (to rebuild the state of a partial
 * download), continuing h. */
int sc_hash_file(struct sc_hash *h, int fd, uint64_t len);

#endif
