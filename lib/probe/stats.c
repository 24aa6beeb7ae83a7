#include "stats.h"

#include <math.h>

/* 95%: the two-sided normal quantile */
#define Z 1.959963984540054

struct sc_rate sc_rate_wilson(size_t k, size_t n)
{
	struct sc_rate r = { .k = k, .n = n };
	if (!n || k > n)
		return r;
	/* Wilson (1927): unlike p +- z*sqrt(p(1-p)/n) it stays inside [0, 1]
	 * and is not empty at 0% or 100%, which a probe often measures */
	double nn = (double)n, p = (double)k / nn, z2 = Z * Z;
	double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
	double half = Z / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	r.p = p;
	r.lo = k == 0 ? 0 : centre - half;
	r.hi = k == n ? 1 : centre + half;
	return r;
}

size_t sc_tally_valid(const struct sc_tally *t)
{
	return t->count[SC_COMPLIANCE] + t->count[SC_REFUSAL] + t->count[SC_PARTIAL];
}

struct sc_rate sc_tally_refused(const struct sc_tally *t)
{
	return sc_rate_wilson(t->count[SC_REFUSAL], sc_tally_valid(t));
}

struct sc_rate sc_tally_partial(const struct sc_tally *t)
{
	return sc_rate_wilson(t->count[SC_PARTIAL], sc_tally_valid(t));
}
