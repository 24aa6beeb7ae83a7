/* A pool of threads over n independent tasks, on every core (at most 8),
 * the calling thread included. The first failure stops the tasks not yet
 * started and is returned with its message. */
#ifndef SC_POOL_H
#define SC_POOL_H

#include <stddef.h>

#include "err.h"

int sc_pool_run(size_t n, int (*fn)(void *ud, size_t i, sc_err *e), void *ud, sc_err *e);

#endif
