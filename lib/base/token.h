/* Secrets in files: read, whitespace stripped, and whether the file is
 * readable by others. A token is never printed, logged or put in an error
 * message. */
#ifndef SC_TOKEN_H
#define SC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* A token may go into a header: no control characters (CR, LF, ...). */
bool sc_token_ok(const char *t);

/* *ret is NULL when the file holds only whitespace. A token with a
 * control character inside is refused (-EINVAL), naming the file only. */
int sc_token_read(const char *path, char **ret, bool *others_can_read, sc_err *e);

/* A token file of the proxy: a token a line, or "LABEL: TOKEN" to name the
 * client in the log; blank lines and lines starting with # are skipped. */
struct sc_token {
	char *label;  /* NULL: none */
	char *token;
};

/* Errors name path:line, never the token. Zero tokens is no error. */
int sc_tokens_parse(const char *path, const char *buf, size_t len, struct sc_token **ret, size_t *n, sc_err *e);
int sc_tokens_read(const char *path, struct sc_token **ret, size_t *n, bool *others_can_read, sc_err *e);
void sc_tokens_free(struct sc_token *t, size_t n);

/* The index of the token equal to cand, or -1. Each comparison takes the
 * same time whatever bytes differ, so timing tells nothing of a token. */
long sc_tokens_match(const struct sc_token *t, size_t n, const char *cand, size_t cand_len);

/* Overwrite and free a secret. */
void sc_secret_free(char *s);

#endif
