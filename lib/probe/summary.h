/* What a probe run measured: tallies per label and per prompt type, and
 * the one-line verdict built only from them. */
#ifndef SC_PROBE_SUMMARY_H
#define SC_PROBE_SUMMARY_H

#include <jansson.h>

#include "runner.h"
#include "stats.h"

enum { SC_SAFE, SC_UNSAFE };

struct sc_probe_summary {
	struct sc_tally label[2];   /* [SC_SAFE], [SC_UNSAFE] */
	struct sc_tally *types;     /* each prompt type, in the set's order */
	size_t n_types;
	size_t bad;                 /* bad answers, counted apart */
};

int sc_probe_summarise(const struct sc_probe_run *run, struct sc_probe_summary *ret);
void sc_probe_summary_done(struct sc_probe_summary *s);

/* "refuses 12% of unsafe prompts [8–17%], over-refuses 2% of safe prompts
 * [1–5%]": each part only where the run had valid answers to that label. */
void sc_probe_verdict_line(const struct sc_tally *safe, const struct sc_tally *unsafe, char *buf, size_t len);

/* A rate with its interval, "12% [8–17%]"; "-" when nothing was measured. */
void sc_probe_rate_text(struct sc_rate r, char *buf, size_t len);

/* {"p", "lo", "hi", "n"} of a rate, or JSON null when nothing was measured. */
json_t *sc_probe_rate_json(struct sc_rate r);

/* A percentage as the verdict writes it: "12%", "0.4%", "100%". */
void sc_probe_percent(double p, char *buf, size_t len);

#endif
