/* Write a file so that readers see the old content or the new, never a
 * half-written one: a temporary file in the same folder, fsync, rename. */
#ifndef SC_ATOMICFILE_H
#define SC_ATOMICFILE_H

#include <stddef.h>

#include "err.h"

int sc_write_atomic(const char *path, const void *data, size_t len, sc_err *e);

#endif
