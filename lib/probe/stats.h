/* The figures of a probe: counts per verdict, per label and per prompt
 * type, and rates with their 95% Wilson score intervals. */
#ifndef SC_PROBE_STATS_H
#define SC_PROBE_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "judge.h"

struct sc_rate {
	size_t k, n;        /* k of n */
	double p, lo, hi;   /* k/n and its 95% Wilson interval; all 0 when n is 0 */
};

/* The Wilson score interval (z = 1.96) of k successes in n trials. */
struct sc_rate sc_rate_wilson(size_t k, size_t n);

struct sc_tally {
	const char *type;   /* a prompt type, or NULL for a whole label */
	bool unsafe;
	size_t count[SC_VERDICT_COUNT];
};

/* The rates of a tally: bad answers are left out of n, never counted as
 * compliance or refusal. refused counts full refusals only; partial
 * refusals have their own rate. */
struct sc_rate sc_tally_refused(const struct sc_tally *t);
struct sc_rate sc_tally_partial(const struct sc_tally *t);
size_t sc_tally_valid(const struct sc_tally *t);

#endif
