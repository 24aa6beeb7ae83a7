/* Write a file so that readers see the old content or the new, never a
 * half-written one: a temporary file in the same folder, fsync, rename.
 * A path that is a symlink is followed: the file it points at is replaced
 * and the link stays. The replaced file's mode is kept; a new file gets
 * 0666 less the umask. */
#ifndef SC_ATOMICFILE_H
#define SC_ATOMICFILE_H

#include <stddef.h>

#include "err.h"

int sc_write_atomic(const char *path, const void *data, size_t len, sc_err *e);

#endif
