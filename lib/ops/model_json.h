/* The JSON form of a model (scan's field names, fixed). */
#ifndef SC_MODEL_JSON_H
#define SC_MODEL_JSON_H

#include <jansson.h>

#include "../format/model.h"
#include "../base/registry.h"

/* New reference, NULL on allocation failure. */
json_t *sc_model_to_json(const struct sc_model *m, const struct registry *reg);

/* {"compatible", "reason"} of every engine of the registry for m. */
json_t *sc_model_engines_json(const struct sc_model *m, const struct registry *reg);

#endif
