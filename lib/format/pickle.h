/* PyTorch pickle checkpoints (pytorch_model*.bin, *.pt, *.pth): a zip whose
 * members are listed with libarchive. Nothing is ever unpickled. */
#ifndef SC_PICKLE_H
#define SC_PICKLE_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/err.h"

struct pickle_info {
	bool zip;          /* torch >= 1.6 zip container; false: legacy raw pickle */
	uint64_t members;  /* zip members */
	uint64_t storages; /* members under data/: one per tensor storage */
};

int sc_pickle_inspect(const char *path, struct pickle_info *ret, sc_err *e);

#endif
