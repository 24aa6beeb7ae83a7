/* git-config style files: [section] and [section "sub"], key = value,
 * '#' and ';' comments, quoted values with \" \\ \n \t escapes, '\' at the
 * end of a line continues it. Keys are case-insensitive. */
#ifndef SC_INI_H
#define SC_INI_H

#include <stddef.h>

#include "err.h"

struct ini_entry {
	char *section;     /* lower case */
	char *subsection;  /* NULL when absent; case kept */
	char *key;         /* lower case */
	char *value;       /* NULL for a bare key */
	unsigned line;
};

struct ini {
	struct ini_entry *entries;
	size_t n, cap;
	/* sections in order, including empty ones: entry index where each
	 * begins and its header line */
	struct ini_section {
		char *section, *subsection;
		unsigned line;
	} *sections;
	size_t n_sections, cap_sections;
};

/* Errors read "<file>:<line>: <why>". */
int sc_ini_parse(const char *file, const char *buf, size_t len, struct ini *ret, sc_err *e);
void sc_ini_done(struct ini *ini);

#endif
