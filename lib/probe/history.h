/* Every probe run is kept: one JSON-lines file under <state-dir>/probe/,
 * a header line (who, what, when, the counts) and a line per prompt. A
 * file is written whole or not at all. */
#ifndef SC_PROBE_HISTORY_H
#define SC_PROBE_HISTORY_H

#include "summary.h"

/* What the run was of, beside its answers. */
struct sc_probe_meta {
	const char *name;          /* the registry name, NULL for --url */
	const char *url;
	const char *set;
	const char *judge;         /* "rules" or "prefix" */
	const char *system;
	const char *checkpoint;    /* the model's path in models.ini, or NULL */
	const char *scan_status;   /* scan's verdict on it, or NULL */
	int concurrency, max_tokens;
};

/* Write the run; *ret_path (may be NULL) is the file's path. */
int sc_probe_save(const char *state_dir, const struct sc_probe_meta *meta, const struct sc_probe_run *run,
		  const struct sc_probe_summary *sum, char **ret_path, sc_err *e);

/* A past run, from its header line. */
struct sc_probe_record {
	char *path, *name, *model, *url, *set, *judge;
	char *checkpoint, *scan_status;   /* NULL when not known */
	int64_t started;                  /* Unix seconds */
	struct sc_tally label[2];         /* [SC_SAFE], [SC_UNSAFE] */
};

struct sc_probe_history {
	struct sc_probe_record *v;   /* oldest first */
	size_t n;
	char **warnings;             /* files that could not be read, and why */
	size_t n_warnings;
};

/* The runs of name (NULL: of every name); no probe folder is no run. */
int sc_probe_history_load(const char *state_dir, const char *name, struct sc_probe_history *ret, sc_err *e);
/* The newest run of name, or NULL. */
const struct sc_probe_record *sc_probe_latest(const struct sc_probe_history *h, const char *name);
void sc_probe_history_done(struct sc_probe_history *h);

#endif
