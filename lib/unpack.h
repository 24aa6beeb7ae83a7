/* Extracting an archive (tar with any compression libarchive knows, zip)
 * into a folder, refusing what could escape it: absolute paths, ".."
 * components, symlinks or hard links pointing outside, device files and
 * FIFOs, and more bytes than the free space. Everything goes to a
 * temporary folder inside the target first and is moved into place only
 * when the whole archive passed. */
#ifndef SC_UNPACK_H
#define SC_UNPACK_H

#include <stdint.h>

#include "err.h"

int sc_unpack(const char *archive, const char *dest, uint64_t *files, uint64_t *bytes, sc_err *e);

/* Is this name an archive sparkctl extracts? */
int sc_is_archive_name(const char *name);

#endif
