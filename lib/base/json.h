/* JSON with jansson: loading a file, cleanup, and text from outside made
 * valid for it. */
#ifndef SC_JSON_H
#define SC_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* json_decref as a cleanup attribute */
static inline void sc_json_decrefp(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(sc_json_decrefp)))

/* Load a JSON file of at most max bytes, with a message naming it. */
int sc_json_load(const char *path, size_t max, json_t **ret, sc_err *e);

/* A JSON string of s (invalid UTF-8 replaced by U+FFFD); null for NULL.
 * NULL only when out of memory. */
json_t *sc_json_text(const char *s);

#endif
