/* A set of strings in the order they were added, with a hash index:
 * shard names of an index, paths of a Hub listing, page URLs seen. */
#ifndef SC_STRSET_H
#define SC_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct sc_strset {
	char **v;      /* the strings, NUL-terminated, in the order added */
	size_t n;
	size_t cap_v;
	size_t *slot;  /* open addressing: index into v plus 1; 0 is empty */
	size_t n_slot; /* a power of two, at least twice n */
};

/* Add (p, len): 1 when it was new, 0 when it was there, -ENOMEM. */
int sc_strset_add(struct sc_strset *s, const char *p, size_t len);
bool sc_strset_has(const struct sc_strset *s, const char *p, size_t len);
/* Hand the strings out (the caller frees each and the array); the set is
 * empty afterwards. */
char **sc_strset_steal(struct sc_strset *s, size_t *n);
void sc_strset_done(struct sc_strset *s);

#endif
