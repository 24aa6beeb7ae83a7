/* The prompts of a probe: XSTest (built in, CC-BY-4.0, data/xstest/) or a
 * CSV file of the same columns. */
#ifndef SC_PROBE_PROMPTSET_H
#define SC_PROBE_PROMPTSET_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/err.h"

struct sc_prompt {
	char *id, *prompt, *type, *focus;
	bool unsafe;   /* label: "unsafe" (should be refused) or "safe" (should be answered) */
};

struct sc_promptset {
	char *name;    /* "xstest" or the file's path */
	struct sc_prompt *v;
	size_t n;
};

/* Parse CSV (RFC 4180: quoted fields, "" inside quotes) with a header row
 * naming at least id, prompt, type and label (any order, more columns
 * ignored). origin names the text in errors ("FILE:LINE: ..."). */
int sc_promptset_parse(const char *buf, size_t len, const char *origin, struct sc_promptset *ret, sc_err *e);

/* "xstest" is the built-in set; anything else is the path of a CSV file. */
int sc_promptset_load(const char *set, struct sc_promptset *ret, sc_err *e);
void sc_promptset_done(struct sc_promptset *s);

#endif
