#include "strset.h"
#include "util.h"

#include <errno.h>

static size_t hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

/* The slot that holds (p, len), or the empty one where it would go. */
static size_t find(const struct sc_strset *s, const char *p, size_t len)
{
	size_t mask = s->n_slot - 1;
	for (size_t i = hash(p, len) & mask;; i = (i + 1) & mask) {
		size_t k = s->slot[i];
		if (!k || (strlen(s->v[k - 1]) == len && memcmp(s->v[k - 1], p, len) == 0))
			return i;
	}
}

static int rehash(struct sc_strset *s)
{
	size_t n_slot = s->n_slot ? s->n_slot * 2 : 64;
	size_t *slot = calloc(n_slot, sizeof *slot);
	if (!slot)
		return -ENOMEM;
	free(s->slot);
	s->slot = slot;
	s->n_slot = n_slot;
	for (size_t k = 0; k < s->n; k++)
		s->slot[find(s, s->v[k], strlen(s->v[k]))] = k + 1;
	return 0;
}

bool sc_strset_has(const struct sc_strset *s, const char *p, size_t len)
{
	return s->n_slot && s->slot[find(s, p, len)];
}

int sc_strset_add(struct sc_strset *s, const char *p, size_t len)
{
	if ((s->n + 1) * 2 > s->n_slot && rehash(s) < 0)
		return -ENOMEM;
	size_t i = find(s, p, len);
	if (s->slot[i])
		return 0;
	if (sc_grow(&s->v, &s->cap_v, s->n + 1, sizeof *s->v) < 0 || !(s->v[s->n] = strndup(p, len)))
		return -ENOMEM;
	s->slot[i] = ++s->n;
	return 1;
}

char **sc_strset_steal(struct sc_strset *s, size_t *n)
{
	char **v = s->v;
	*n = s->n;
	free(s->slot);
	memset(s, 0, sizeof *s);
	return v;
}

void sc_strset_done(struct sc_strset *s)
{
	sc_strv_free(s->v, s->n);
	free(s->slot);
	memset(s, 0, sizeof *s);
}
