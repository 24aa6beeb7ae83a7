/* Secrets in files: read, whitespace stripped, and whether the file is
 * readable by others. A token is never printed, logged or put in an error
 * message. */
#ifndef SC_TOKEN_H
#define SC_TOKEN_H

#include <stdbool.h>

#include "err.h"

/* A token may go into a header: no control characters (CR, LF, ...). */
bool sc_token_ok(const char *t);

/* *ret is NULL when the file holds only whitespace. A token with a
 * control character inside is refused (-EINVAL), naming the file only. */
int sc_token_read(const char *path, char **ret, bool *others_can_read, sc_err *e);

/* Overwrite and free a secret. */
void sc_secret_free(char *s);

#endif
