#ifndef SC_PX_BODY_H
#define SC_PX_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/err.h"

/* The body's "model" (decoded into model, model_len bytes of room) and
 * whether "stream" is true, read without building a tree; the whole body
 * is still checked as JSON. 0, or <0 with why in e. */
int sc_px_body_fields(const char *body, size_t len, char *model, size_t model_len, bool *stream, sc_err *e);

#endif
