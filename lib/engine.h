/* Engines: which engine a registry entry is, and the flags that load a
 * checkpoint with it (DESIGN.md "Engines"). */
#ifndef SC_ENGINE_H
#define SC_ENGINE_H

#include <stdint.h>

#include "model.h"
#include "registry.h"

enum engine_kind { ENGINE_OTHER, ENGINE_SGLANG, ENGINE_VLLM };

/* By the engine's name, else by its command. */
enum engine_kind engine_kind_of(const struct reg_engine *en);

/* The flags that load m with en at `context` tokens (0: no context flag)
 * and memory fraction mem_fraction (0: none). Sets *ret_args (allocated),
 * or *ret_reason (allocated) when the engine cannot load the checkpoint;
 * <0 only on allocation failure. */
int engine_model_args(const struct reg_engine *en, const struct sc_model *m, uint64_t context, double mem_fraction,
		      char **ret_args, char **ret_reason);

#endif
