/* Words of a value (args, env, unsupported) with shell-like quoting. */
#ifndef SC_WORDS_H
#define SC_WORDS_H

#include <stddef.h>

#include "err.h"

/* Split a value into words with shell-like quoting ('…', "…", \x), no
 * expansion of any kind. */
int sc_split_words(const char *s, char ***ret, size_t *ret_n, sc_err *e);

#endif
