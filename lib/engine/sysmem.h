/* Memory figures of this machine from /proc/meminfo. On GB10 the GPU shares
 * this memory, so MemAvailable is the figure that matters before a start. */
#ifndef SC_SYSMEM_H
#define SC_SYSMEM_H

#include <stdint.h>

#include "../base/err.h"

/* Parse meminfo text; fields missing from it are left 0. */
int sc_meminfo_parse(const char *text, uint64_t *total, uint64_t *available);
int sc_meminfo(uint64_t *total, uint64_t *available, sc_err *e);

#endif
