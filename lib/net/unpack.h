/* Extracting an archive (tar with any compression libarchive knows, zip)
 * into a folder, refusing what could escape it: absolute paths, ".."
 * components, any link in an entry's parent path, symlinks that point
 * outside (or through another link), hard links to anything but a file
 * extracted before, device files and
 * FIFOs, and more bytes than the free space. Everything goes to a
 * temporary folder inside the target first and is moved into place only
 * when the whole archive passed. */
#ifndef SC_UNPACK_H
#define SC_UNPACK_H

#include <stdint.h>

#include "../base/err.h"

/* The path rules every entry passes, exposed for the fuzzer: a relative
 * path without a ".." component (0; -ENOENT for "." alone; -EPERM). */
int sc_unpack_check_path(const char *rel);
/* A symlink at rel may point at target: relative, leading ".."s that stay
 * inside, then names (no "." or ".." after a name). 0 or -EPERM. */
int sc_unpack_check_link(const char *rel, const char *target);

int sc_unpack(const char *archive, const char *dest, uint64_t *files, uint64_t *bytes, sc_err *e);

/* Is this name an archive sparkctl extracts? */
int sc_is_archive_name(const char *name);

#endif
